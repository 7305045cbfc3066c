"""Web chat channel and page (credentials.yml: ``connectors.webchat.WebChatInput:``)."""
from connectors.webchat.channel import WebChatInput

__all__ = ["WebChatInput"]
