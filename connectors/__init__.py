"""Customer channels of the assistant: WeChat, web chat, telephone (Twilio) and a JSON
IVR webhook, plus the shared rendering layer (``render``) and id namespacing (``ids``)."""
