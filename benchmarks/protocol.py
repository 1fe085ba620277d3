"""A visitor without a browser: one Streamlit session driven over the app's own protocol.

On a 2-core machine the load benchmark's Chromium sessions use most of the CPU the server
needs (86% of the busy CPU seconds at 10 sessions, docs/results/load-2026-12-01-e.json), so
what the p95 measures there is mostly the load generator. A protocol session sends the
server what a recorded Chromium session sent, and nothing the server would not get from a
browser:

  - the same BackMsgs on the websocket (each run request with every widget's state), with
    the class names and uploaded files swapped for this session's own;
  - the same uploads (a file-URL request on the websocket, then an HTTP PUT per file);
  - the same page files fetched over HTTP (the JavaScript bundle when the page opens, the
    chunks fetched later, such as plotly's), with the browser's Accept-Encoding;
  - the same pauses: each message waits as long after the previous answer as the browser
    waited (its rendering, and the benchmark's wait for a quiet page).

It reads the server's answers (ForwardMsgs) without rendering them. Measured per upload:
the file-URL request -> the end of the run it starts (the server's part of the wait).

    template = Recorder(page)   # attached before a Chromium journey; .template() after it
    result = await replay(url, template, names, files)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

# What Chromium 156 sends; the server may compress what it serves accordingly.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
XSRF_COOKIE = "_streamlit_xsrf"
FINISHED_EARLY_FOR_RERUN = 2  # ForwardMsg.script_finished: another run follows at once
VERDICT = re.compile(r"Looks like \*\*(.+?)\*\* \(([<>]?\d+%)\)")


@dataclass
class Message:
    """One BackMsg the browser sent, `gap_s` after the previous answer (the end of the
    previous run, or the previous message, whichever came later; for the first message, the
    session's start), and the page files it fetched after this message's run."""

    gap_s: float
    data: bytes
    gets: list[str] = field(default_factory=list)


@dataclass
class Template:
    """A recorded Chromium session: the page files it fetched while the page opened, then
    its messages in order."""

    gets: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds of pauses in the recorded session (its runs' own time aside)."""
        return sum(message.gap_s for message in self.messages)


class Recorder:
    """Records a Playwright page's session as a Template: attach before `page.goto`."""

    def __init__(self, page) -> None:
        self._template = Template()
        self._mark = time.perf_counter()  # the last answer or message
        page.on("websocket", self._on_websocket)
        page.on("request", self._on_request)

    def template(self) -> Template:
        return self._template

    def _on_websocket(self, socket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, data: bytes | str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if not isinstance(data, bytes):
            return
        message = BackMsg.FromString(data)
        if message.WhichOneof("type") in ("rerun_script", "file_urls_request"):
            now = time.perf_counter()
            self._template.messages.append(Message(now - self._mark, data))
            self._mark = now

    def _received(self, data: bytes | str) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(data, bytes) and ForwardMsg.FromString(data).HasField("script_finished"):
            self._mark = time.perf_counter()

    def _on_request(self, request) -> None:
        path = request.url.split("/", 3)[-1]
        if request.method != "GET" or path.startswith("_stcore/"):
            return  # uploads go through the websocket's file-URL answer; health checks aside
        messages = self._template.messages
        (messages[-1].gets if messages else self._template.gets).append(path)


def _cookies(url: str) -> tuple[str, str]:
    """The cookies the server sets on a first request (its health page), as a Cookie header
    a browser would send back from then on, and the XSRF token among them (needed for
    uploads). Behind the nginx recipe this includes its route cookie, which keeps every
    request of the visitor on one replica, as a browser's."""
    jar = {}
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    if XSRF_COOKIE not in jar:
        raise RuntimeError("the server set no XSRF cookie on /_stcore/health")
    return "; ".join(f"{name}={value}" for name, value in jar.items()), jar[XSRF_COOKIE]


def fetch(url: str, path: str, cookie: str = "") -> int:
    """GET a page file as the browser did; returns the bytes read (compressed, as sent)."""
    headers = {"Accept-Encoding": ACCEPT_ENCODING, "Cookie": cookie}
    request = urllib.request.Request(f"{url}/{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        return len(response.read())


def _put(url: str, path: str, cookie: str, xsrf: str, name: str, data: bytes) -> None:
    """Upload one file as the browser's uploader does: a multipart PUT with the XSRF token."""
    boundary = "----fewshotlab-load"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="UploadedFile"; '
            f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}{path}",
        data=body,
        method="PUT",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": xsrf,
            "Cookie": cookie,
        },
    )
    with urllib.request.urlopen(request, timeout=120):  # an error status raises
        pass


class _Answers:
    """Reads the server's messages for one session: its id, the file-URL answers, when each
    run ended, the text of the last run, and any exception shown."""

    def __init__(self) -> None:
        self.session_id = ""
        self.file_urls: dict[str, Any] = {}
        self.ended: list[float] = []  # perf_counter of each run's end (not an early stop)
        self.text: list[str] = []  # the text of the messages since the last run request
        self.exceptions: list[str] = []
        self.changed = asyncio.Event()
        self.closed = False

    def read(self, data: bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = ForwardMsg.FromString(data)
        kind = message.WhichOneof("type")
        if kind == "new_session" and not self.session_id:
            self.session_id = message.new_session.initialize.session_id
        elif kind == "file_urls_response":
            self.file_urls[message.file_urls_response.response_id] = message.file_urls_response
        elif kind == "script_finished" and message.script_finished != FINISHED_EARLY_FOR_RERUN:
            self.ended.append(time.perf_counter())
        elif kind == "delta":
            element = message.delta.new_element
            if element.WhichOneof("type") == "exception":
                self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            self.text.append(data.decode("utf-8", "replace"))  # names and verdicts are in it
        self.changed.set()

    async def wait(self, done) -> None:
        """Until done() holds; raises if the server closes the session first."""
        while not done():
            if self.closed:
                raise ConnectionError("the server closed the websocket")
            self.changed.clear()
            await self.changed.wait()


async def replay(
    url: str,
    template: Template,
    names: dict[str, str],
    files: dict[str, tuple[str, bytes]],
    result: dict[str, Any],
) -> dict[str, Any]:
    """Run `template` as a new session on the server at `url`: class names typed are swapped
    by `names` (recorded -> this session's), and each uploaded file by `files` (recorded
    name -> this session's name and bytes). Fills `result` as it goes (a session cut off by
    its deadline keeps what it got to): "uploads", one {"files", "seconds"} per upload (the
    file-URL request -> the end of the run with the files); "runs", [requested, ended]
    (perf_counter) per run request; "verdicts", the "Looks like" lines of the last run;
    "text", that run's text; "errors", exceptions the page showed."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from websockets.asyncio.client import connect

    start = time.perf_counter()
    cookie, xsrf = await asyncio.to_thread(_cookies, url)
    fetches = [asyncio.create_task(_fetch_all(url, template.gets, cookie))]  # the page opening
    answers = _Answers()
    uploads: list[dict[str, Any]] = result.setdefault("uploads", [])
    runs: list[list[float]] = result.setdefault("runs", [])  # [requested, ended] per run
    socket_url = "ws" + url.removeprefix("http") + "/_stcore/stream"
    async with connect(
        socket_url,
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        additional_headers={"Cookie": cookie},
        origin=url,  # type: ignore[arg-type]
        proxy=None,
        max_size=None,  # offers permessage-deflate as browsers do; this server accepts none
    ) as socket:

        async def listen() -> None:
            try:
                async for data in socket:
                    if isinstance(data, bytes):
                        answers.read(data)
            finally:
                answers.closed = True
                answers.changed.set()

        listener = asyncio.create_task(listen())
        try:
            pending: dict[str, Any] = {}  # the upload whose run request comes next
            infos: dict[str, Any] = {}  # every file uploaded so far, by recorded name
            mark = start
            for recorded in template.messages:
                message = BackMsg.FromString(recorded.data)
                if not pending:  # the run request after an upload goes at once, as a browser's
                    await asyncio.sleep(max(0.0, mark + recorded.gap_s - time.perf_counter()))
                if message.WhichOneof("type") == "file_urls_request":
                    pending = await _upload(url, socket, answers, message, files, (cookie, xsrf))
                    infos.update(pending["infos"])
                    mark = time.perf_counter()
                    continue
                _swap(message, names, infos)
                answers.text.clear()
                already = len(answers.ended)
                sent = time.perf_counter()
                await socket.send(message.SerializeToString())
                await answers.wait(lambda n=already: len(answers.ended) > n)
                mark = answers.ended[already]
                runs.append([sent, mark])
                if pending:
                    uploads.append(
                        {"files": pending["names"], "seconds": mark - pending["requested"]}
                    )
                    pending = {}
                fetches.append(asyncio.create_task(_fetch_all(url, recorded.gets, cookie)))
        finally:
            listener.cancel()
            await asyncio.gather(*fetches, return_exceptions=True)
    text = "".join(answers.text)
    result["text"] = text
    result["verdicts"] = [
        f"Looks like {_plain(name)} ({percent})" for name, percent in VERDICT.findall(text)
    ]
    result.setdefault("errors", []).extend(answers.exceptions)
    return result


def _plain(name: str) -> str:
    """A name as the page shows it: without Markdown's escapes and the bidi isolates."""
    return re.sub(r"\\(.)", r"\1", name).strip("\u2068\u2069")


async def _fetch_all(url: str, paths: list[str], cookie: str) -> None:
    for path in paths:  # one after another, off the event loop
        with contextlib.suppress(OSError):  # a page file lost is not the journey lost
            await asyncio.to_thread(fetch, url, path, cookie)


async def _upload(url, socket, answers, message, files, tokens) -> dict[str, Any]:
    """Ask for upload URLs as the browser did, for this session's files, and PUT them;
    returns the uploaded files' infos by recorded name, for the run request that follows."""
    from streamlit.proto.Common_pb2 import UploadedFileInfo

    requested = time.perf_counter()
    request = message.file_urls_request
    recorded = list(request.file_names)
    ours = [files[name] for name in recorded]
    request.session_id = answers.session_id
    request.request_id = f"load-{requested}"
    del request.file_names[:]
    request.file_names.extend(name for name, _ in ours)
    await socket.send(message.SerializeToString())
    await answers.wait(lambda: request.request_id in answers.file_urls)
    response = answers.file_urls.pop(request.request_id)
    infos = {}
    for old, (name, data), urls in zip(recorded, ours, response.file_urls, strict=True):
        await asyncio.to_thread(_put, url, urls.upload_url, *tokens, name, data)
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id)
        info.file_urls.CopyFrom(urls)
        infos[old] = info
    return {"infos": infos, "names": [name for name, _ in ours], "requested": requested}


def _swap(message, names: dict[str, str], infos: dict[str, Any]) -> None:
    """This session's class names and uploaded files in a recorded run request."""
    for widget in message.rerun_script.widget_states.widgets:
        kind = widget.WhichOneof("value")
        if kind == "string_value" and widget.string_value in names:
            widget.string_value = names[widget.string_value]
        elif kind == "file_uploader_state_value":
            for info in widget.file_uploader_state_value.uploaded_file_info:
                if info.name in infos:
                    info.CopyFrom(infos[info.name])
