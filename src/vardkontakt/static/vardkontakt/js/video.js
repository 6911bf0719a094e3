// Video visits (templates/video/room.html): test the camera and microphone, wait in the waiting
// room, then a WebRTC call peer to peer with everyone let in (a mesh, at most four), with a text
// chat beside it. The signalling socket only passes messages (video/consumers.py); media go
// between the browsers, encrypted by DTLS-SRTP, and nothing is recorded.
// The staff's day list (templates/video/staff/day.html) is refreshed from here too.

// A socket closed because its session was logged out (identity/sockets.py LOGGED_OUT).
const LOGGED_OUT = 4401;

const dayList = document.getElementById("vk-video-day");
if (dayList) {
  setInterval(async () => {
    const response = await fetch(dayList.dataset.refreshUrl, { headers: { "HX-Request": "true" } });
    if (response.ok) dayList.innerHTML = await response.text();
  }, 5000);
}

const root = document.getElementById("vk-video");
if (root) start(root);

function start(root) {
  const text = root.dataset;
  const iceServers = JSON.parse(document.getElementById("vk-ice").textContent);
  const status = document.getElementById("vk-status");
  const selfView = document.getElementById("vk-self");
  const enter = document.getElementById("vk-enter");
  const peers = new Map(); // participant id -> RTCPeerConnection
  const pending = new Map(); // candidates that came before their description
  let stream = null;
  let socket = null;
  let me = "";
  let finished = false;
  // For the browser tests, which read the connections' statistics.
  window.vkVideo = { peers };

  const say = (message) => { status.textContent = message; };

  document.getElementById("vk-test-start").addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      selfView.srcObject = stream;
      enter.disabled = false;
      say(text.textDevicesOk);
    } catch {
      say(text.textDevicesFailed);
    }
  });

  enter.addEventListener("click", () => {
    enter.disabled = true;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${text.wsPath}?ticket=${encodeURIComponent(text.ticket)}`);
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      closeAll();
      if (finished) return;
      if (event.code === 4009) {
        // The room has its four already (video/consumers.py ROOM_FULL).
        say(text.textFull);
        root.dataset.state = "full";
      } else if (event.code === LOGGED_OUT) {
        say(text.textLoggedOut);
        root.dataset.state = "logged-out";
      } else {
        say(event.code === 1008 ? text.textRefused : text.textLost);
        root.dataset.state = event.code === 1008 ? "refused" : "lost";
      }
    });
  });

  const send = (message) => socket.send(JSON.stringify(message));

  document.getElementById("vk-chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("vk-chat-text");
    if (input.value.trim()) send({ type: "chat", text: input.value });
    input.value = "";
  });
  document.getElementById("vk-leave").addEventListener("click", () => {
    finished = true;
    send({ type: "leave" });
    say(text.textLeft);
    root.dataset.state = "left";
  });
  const end = document.getElementById("vk-end");
  if (end) end.addEventListener("click", () => send({ type: "end" }));

  function handle(message) {
    switch (message.type) {
      case "welcome":
        me = message.me;
        root.dataset.state = message.state;
        if (message.state === "waiting") say(text.textWaiting);
        break;
      case "admitted":
        root.dataset.state = "admitted";
        document.getElementById("vk-test").hidden = true;
        document.getElementById("vk-call").hidden = false;
        say(text.textInRoom);
        for (const id of message.peers) call(id);
        break;
      case "roster":
        showRoster(message.people);
        break;
      case "signal":
        onSignal(message.from, message.data);
        break;
      case "chat":
        addChat(message.from, message.text);
        break;
      case "removed":
        finished = true;
        root.dataset.state = "removed";
        closeAll();
        say(text.textRemoved);
        break;
      case "peer-left":
        hangUp(message.id);
        break;
      case "ended":
        finished = true;
        root.dataset.state = "ended";
        closeAll();
        say(text.textEnded);
        if (text.evaluationUrl) {
          const paragraph = document.createElement("p");
          const link = document.createElement("a");
          link.href = text.evaluationUrl;
          link.textContent = text.textEvaluate;
          paragraph.append(link);
          status.after(paragraph);
        }
        break;
    }
  }

  function connection(id) {
    let pc = peers.get(id);
    if (pc) return pc;
    pc = new RTCPeerConnection({ iceServers });
    peers.set(id, pc);
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) send({ type: "signal", to: id, data: { candidate: event.candidate.toJSON() } });
    });
    pc.addEventListener("track", (event) => {
      let video = document.getElementById(`vk-remote-${id}`);
      if (!video) {
        video = document.createElement("video");
        video.id = `vk-remote-${id}`;
        video.autoplay = true;
        video.playsInline = true;
        video.setAttribute("aria-label", id);
        document.getElementById("vk-remotes").append(video);
      }
      video.srcObject = event.streams[0];
    });
    return pc;
  }

  async function call(id) {
    const pc = connection(id);
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "signal", to: id, data: { description: pc.localDescription.toJSON() } });
  }

  async function onSignal(from, data) {
    const pc = connection(from);
    if (data.description) {
      await pc.setRemoteDescription(data.description);
      if (data.description.type === "offer") {
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: "signal", to: from, data: { description: pc.localDescription.toJSON() } });
      }
      for (const candidate of pending.get(from) || []) await pc.addIceCandidate(candidate);
      pending.delete(from);
    } else if (data.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(data.candidate);
      else pending.set(from, [...(pending.get(from) || []), data.candidate]);
    }
  }

  function hangUp(id) {
    const pc = peers.get(id);
    if (pc) pc.close();
    peers.delete(id);
    const video = document.getElementById(`vk-remote-${id}`);
    if (video) video.remove();
  }

  function closeAll() {
    for (const id of [...peers.keys()]) hangUp(id);
  }

  function addChat(from, message) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = `${from}: `;
    item.append(name, message);
    document.getElementById("vk-chat-log").append(item);
  }

  function showRoster(people) {
    const list = document.getElementById("vk-waiting");
    if (!list) return;
    list.replaceChildren();
    const waiting = people.filter((person) => person.state === "waiting" && person.id !== me);
    if (!waiting.length) {
      const item = document.createElement("li");
      item.textContent = text.textNobody;
      list.append(item);
    }
    for (const person of waiting) {
      const item = document.createElement("li");
      const minutes = Math.floor(person.waiting_seconds / 60);
      const role = person.role === "interpreter" ? `, ${text.textInterpreter}` : "";
      item.textContent = `${person.name}${role} (${minutes} min) `;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "nhsuk-button nhsuk-button--small";
      button.textContent = `${text.textAdmit} ${person.name}`;
      button.addEventListener("click", () => send({ type: "admit", participant: person.id }));
      item.append(button);
      list.append(item);
    }
  }
}

// A drop-in caller's waiting page: the place in the queue, then into the meeting when taken.
const callerPage = document.getElementById("vk-caller");
if (callerPage) {
  const text = callerPage.dataset;
  const status = document.getElementById("vk-caller-status");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${text.wsPath}?ticket=${encodeURIComponent(text.ticket)}`);
  let moving = false;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "place") {
      status.textContent = `${text.textPlace} ${message.position}`;
      callerPage.dataset.position = String(message.position);
    } else if (message.type === "routed") {
      status.textContent = text.textRouted;
      callerPage.dataset.routed = message.queue;
    } else if (message.type === "taken") {
      moving = true;
      location.assign(message.room_url);
    }
  });
  socket.addEventListener("close", (event) => {
    if (moving) return;
    if (event.code === LOGGED_OUT) status.textContent = text.textLoggedOut;
    else status.textContent = event.code === 1008 ? text.textRefused : text.textLost;
  });
}

// A nurse's queue page: who waits and for how long, live; take the next; route one on.
const queuePage = document.getElementById("vk-queue");
if (queuePage) {
  const text = queuePage.dataset;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${text.wsPath}?ticket=${encodeURIComponent(text.ticket)}`);
  const body = document.getElementById("vk-queue-callers");
  const status = document.getElementById("vk-queue-status");
  const send = (message) => socket.send(JSON.stringify(message));
  document.getElementById("vk-take").addEventListener("click", () => send({ type: "take" }));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "queue") {
      document.getElementById("vk-queue-length").textContent = String(message.callers.length);
      queuePage.dataset.length = String(message.callers.length);
      body.replaceChildren();
      for (const caller of message.callers) {
        const row = document.createElement("tr");
        row.className = "nhsuk-table__row";
        const minutes = Math.floor(caller.waiting_seconds / 60);
        for (const value of [caller.name + (caller.for ? ` (${caller.for})` : ""), caller.reason, `${minutes} min`]) {
          const cell = document.createElement("td");
          cell.className = "nhsuk-table__cell";
          cell.textContent = value;
          row.append(cell);
        }
        const cell = document.createElement("td");
        cell.className = "nhsuk-table__cell";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small";
        button.textContent = `${text.textRoute} ${caller.name}`;
        button.addEventListener("click", () => {
          const [kind, id] = document.getElementById("vk-route-to").value.split(":");
          send({ type: "route", caller: caller.id, [kind]: id });
        });
        cell.append(button);
        row.append(cell);
        body.append(row);
      }
    } else if (message.type === "took") {
      location.assign(message.room_url);
    } else if (message.type === "refused") {
      status.textContent = text.textRefused;
    } else if (message.type === "nobody") {
      status.textContent = text.textNobody;
    }
  });
  socket.addEventListener("close", (event) => {
    status.textContent = event.code === LOGGED_OUT ? text.textLoggedOut : text.textLost;
  });
}
