"""Every request a page makes, as Chromium's DevTools protocol reports it: whether it
was answered from the browser's cache, its status as it came over the wire (a
revalidated answer is a 304 there), its Content-Encoding and the bytes received.
Used by the browser tests and by ``bench/page_load.py``."""


class NetworkLog:
    """``requests``: request id -> ``{url, cached, status, wire_status, encoding,
    cache_control, bytes}``."""

    def __init__(self, context, page):
        """Start listening (before the page loads anything)."""
        self.requests = {}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self.sent)
        cdp.on("Network.responseReceived", self.received)
        cdp.on("Network.responseReceivedExtraInfo", self.raw_status)
        cdp.on("Network.requestServedFromCache", self.from_cache)
        cdp.on("Network.loadingFinished", self.finished)

    def entry(self, request_id):
        return self.requests.setdefault(request_id, {"cached": False, "bytes": 0, "status": None})

    def sent(self, event):
        self.entry(event["requestId"])["url"] = event["request"]["url"]

    def from_cache(self, event):
        self.entry(event["requestId"])["cached"] = True

    def received(self, event):
        entry = self.entry(event["requestId"])
        response = event["response"]
        entry["status"] = response["status"]
        entry["cached"] = entry["cached"] or response.get("fromDiskCache") or response.get("fromMemoryCache")
        headers = {name.lower(): value for name, value in response["headers"].items()}
        entry["encoding"] = headers.get("content-encoding", "")
        entry["cache_control"] = headers.get("cache-control", "")

    def raw_status(self, event):
        # The status as it came over the wire (responseReceived shows a revalidated 304 as 200).
        self.entry(event["requestId"])["wire_status"] = event["statusCode"]

    def finished(self, event):
        self.entry(event["requestId"])["bytes"] = event["encodedDataLength"]

    def of(self, origin):
        """The entries for ``origin``, each with its ``path``."""
        entries = []
        for entry in self.requests.values():
            url = entry.get("url", "")
            if url.startswith(origin):
                entries.append({**entry, "path": url[len(origin) :]})
        return entries
