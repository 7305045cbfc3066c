/* 在线客服页面脚本：socket.io 连接、会话保持（localStorage）、历史记录、快捷按钮、输入提示、断线重连。
 * 不依赖任何外部资源；socket.io 客户端随页面一起提供（socket.io.min.js）。 */
(function () {
  "use strict";

  var STORAGE_KEY = "credit-webchat-session";
  var messages = document.getElementById("messages");
  var typing = document.getElementById("typing");
  var statusBar = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var newChat = document.getElementById("new-chat");

  var state = { sessionId: null, ready: false, typingTimer: null };
  window.__webchat = state;

  function storedSession() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }
  function storeSession(id) {
    try { window.localStorage.setItem(STORAGE_KEY, id); } catch (e) { /* private mode: session lasts for the tab */ }
  }
  function forgetSession() {
    try { window.localStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
  }

  function setStatus(text, ok) {
    if (!text) { statusBar.hidden = true; statusBar.textContent = ""; return; }
    statusBar.hidden = false;
    statusBar.textContent = text;
    statusBar.className = ok ? "status ok" : "status";
  }

  function setReady(ready) {
    state.ready = ready;
    sendButton.disabled = !ready || !input.value.trim();
  }

  function scrollToEnd() {
    messages.scrollTop = messages.scrollHeight;
  }

  // Plain text with **bold** and http(s) links, built as DOM nodes (never innerHTML).
  function appendRichText(parent, text) {
    var pattern = /(\*\*[^*\n]+\*\*)|(\[[^\]\n]+\]\((https?:\/\/[^)\s]+)\))|(https?:\/\/[^\s<>"，。）)]+)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1]) {
        var strong = document.createElement("strong");
        strong.textContent = match[1].slice(2, -2);
        parent.appendChild(strong);
      } else {
        var a = document.createElement("a");
        var label = match[2] ? match[2].slice(1, match[2].indexOf("](")) : match[4];
        a.href = match[3] || match[4];
        a.textContent = label;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function addRow(sender, text) {
    var row = document.createElement("div");
    row.className = "row " + sender;
    row.setAttribute("data-sender", sender);
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (sender === "bot") appendRichText(bubble, text); else bubble.textContent = text;
    row.appendChild(bubble);
    messages.appendChild(row);
    return bubble;
  }

  function addQuickReplies(replies) {
    var box = document.createElement("div");
    box.className = "quick-replies";
    replies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = reply.title;
      button.addEventListener("click", function () {
        if (!state.ready) return;
        send(reply.payload, reply.title);
      });
      box.appendChild(button);
    });
    messages.appendChild(box);
  }

  function renderBot(message) {
    if (message.text) addRow("bot", message.text);
    if (message.attachment && message.attachment.type === "image" && message.attachment.payload) {
      var bubble = addRow("bot", "");
      var img = document.createElement("img");
      img.alt = "图片";
      img.src = message.attachment.payload.src;
      bubble.appendChild(img);
    }
    if (message.quick_replies && message.quick_replies.length) addQuickReplies(message.quick_replies);
    if (message.handoff) addRow("system", "已为您转接人工客服，请稍候，客服将在此继续为您服务。");
    scrollToEnd();
  }

  function renderHistory(items) {
    messages.textContent = "";
    (items || []).forEach(function (item) {
      if (item.sender === "user") addRow("user", item.text || "");
      else renderBot(item);
    });
    scrollToEnd();
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (state.typingTimer) { clearTimeout(state.typingTimer); state.typingTimer = null; }
    if (on) {
      // never spin forever if the server goes quiet
      state.typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
      scrollToEnd();
    }
  }

  var socket = window.io({ path: "/socket.io", reconnectionDelay: 500, reconnectionDelayMax: 5000 });
  state.socket = socket;

  function requestSession(id) {
    socket.emit("session_request", { session_id: id || null });
  }

  function send(text, shownAs) {
    if (!text || !state.ready) return;
    if (shownAs !== null) addRow("user", shownAs || text);
    socket.emit("user_uttered", { message: text, session_id: state.sessionId });
    showTyping(true);
    scrollToEnd();
  }

  socket.on("connect", function () {
    setStatus("");
    requestSession(storedSession());
  });
  socket.on("session_confirm", function (id) {
    state.sessionId = id;
    storeSession(id);
    setReady(true);
  });
  socket.on("history", function (items) {
    renderHistory(items);
    if (!items || items.length === 0) send("/greet", null); // welcome and privacy notice
  });
  socket.on("bot_uttered", function (message) {
    showTyping(false);
    renderBot(message || {});
  });
  socket.on("bot_typing", function (data) {
    showTyping(Boolean(data && data.typing));
  });
  socket.on("error_message", function (data) {
    showTyping(false);
    addRow("system", (data && data.message) || "发生错误，请稍后再试。");
    scrollToEnd();
  });
  socket.on("disconnect", function () {
    setReady(false);
    showTyping(false);
    setStatus("连接已断开，正在重新连接…");
  });
  socket.on("connect_error", function () {
    setReady(false);
    setStatus("暂时无法连接客服，正在重试…");
  });
  socket.io.on("reconnect", function () {
    setStatus("已重新连接", true);
    setTimeout(function () { if (state.ready) setStatus(""); }, 2000);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    send(text);
    setReady(state.ready);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", function () {
    autosize();
    sendButton.disabled = !state.ready || !input.value.trim();
  });
  newChat.addEventListener("click", function () {
    forgetSession();
    state.sessionId = null;
    messages.textContent = "";
    requestSession(null);
  });
})();
