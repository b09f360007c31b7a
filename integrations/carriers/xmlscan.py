"""Reading carrier XML replies with string searches instead of a tree.

The XML replies we parse most (FedEx Web Services, DHL Express XML Services)
are schema-fixed documents: a header, then a list of scans whose fields are
simple elements without attributes. Building an ElementTree for them costs
more than all the rest of the mapping, so their mappings read the common
success reply through this module and leave everything else to the full
parser.

Scanning is only sound for documents it can read exactly, so ``document``
refuses (returns None) whenever one is outside that: not UTF-8, CDATA,
comments or a DTD (which could hide or inject markup), or unfinished (the
last tag does not close the first). A mapping that gets None, or finds a
shape it does not expect, falls back to the full parser, which also owns
every error and not-found reply. Tests check both paths agree on every
fixture."""

from __future__ import annotations

from html import unescape


def document(raw: str | bytes) -> str | None:
    """The reply as text when string searches can read it exactly, else None."""
    if isinstance(raw, bytes):
        head = raw[:100]
        if b"encoding" in head and not _declares_utf8(head.decode("latin-1")):
            return None
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return None
    else:
        text = raw
    # The first element (after the prolog) must be closed at the very end of
    # the document, so a truncated body is refused instead of losing scans.
    # Comments may follow it (DHL appends a service invocation id).
    start = text.find("<")
    while start >= 0 and text[start + 1 : start + 2] == "?":
        start = text.find("<", start + 1)
    if start < 0:
        return None
    end = start + 1
    while end < len(text) and text[end] not in " \t\r\n/>":
        end += 1
    close = f"</{text[start + 1 : end]}>"
    root_end = text.rfind(close) + len(close)
    if root_end < len(close) or not _only_comments(text[root_end:]):
        return None
    text = text[:root_end]
    # Inside it, '<!' opens CDATA, comments or a DTD, which could hide or
    # inject markup. Looking for the rare '!' is far cheaper than for '<!'.
    bang = text.find("!")
    while bang >= 0:
        if text[bang - 1 : bang] == "<":
            return None
        bang = text.find("!", bang + 1)
    return text


def _only_comments(tail: str) -> bool:
    tail = tail.strip()
    while tail.startswith("<!--") and "-->" in tail:
        tail = tail[tail.find("-->") + 3 :].strip()
    return not tail


def _declares_utf8(head: str) -> bool:
    declared = head.partition("encoding")[2][:12].lower()
    return "utf-8" in declared or "utf8" in declared or "ascii" in declared


def prefix_of(text: str, local: str) -> str | None:
    """The namespace prefix (with its colon, or '') written on the first
    ``local`` element; None when there is none."""
    i = text.find(local)
    while i > 0 and text[i - 1] not in "<:":
        i = text.find(local, i + 1)
    if i <= 0:
        return None
    prefix = text[text.rfind("<", 0, i) + 1 : i]
    if prefix and (not prefix.endswith(":") or not prefix[:-1].replace("-", "").isalnum()):
        return None
    return prefix


def records(text: str, local: str, prefix: str = "") -> list[str] | None:
    """The insides of every ``local`` element in ``text``, in order.

    None when the element also occurs in a form plain splitting would miss
    (another prefix, attributes, self-closed): the caller falls back to the
    full parser rather than lose scans."""
    parts = text.split(f"<{prefix}{local}>")
    if text.count(f"{local}>") != 2 * (len(parts) - 1):
        return None
    close = f"</{prefix}{local}>"
    return [part[: part.find(close)] for part in parts[1:]]


def value(text: str, tag: str) -> str:
    """The stripped text of the first ``tag`` (e.g. '<Date>') in ``text``; '' if absent."""
    i = text.find(tag)
    if i >= 0:
        i += len(tag)
    else:
        # '<Date xml:lang="en">' or '<Date >' is the same element; rare, so
        # it is only looked for when the plain tag is missing.
        i = text.find(f"{tag[:-1]} ")
        if i < 0:
            return ""
        i = text.find(">", i) + 1
        if text[i - 2] == "/":
            return ""  # self-closed: empty
    found = text[i : text.find("<", i)].strip()
    return unescape(found) if "&" in found else found


def section(text: str, open_tag: str, close_tag: str) -> str | None:
    """What lies between the first ``open_tag`` and the next ``close_tag``."""
    i = text.find(open_tag)
    if i < 0:
        return None
    i += len(open_tag)
    j = text.find(close_tag, i)
    return text[i:j] if j >= 0 else None


def leaves(text: str) -> dict[str, str]:
    """{local name: text} of the childless elements in ``text``, prefixes dropped.

    Callers cut nested containers out first when only direct children count."""
    found: dict[str, str] = {}
    parts = text.split("<")
    for i in range(1, len(parts)):
        part = parts[i]
        if part[:1] in ("/", "?", "!"):
            continue
        head, _, content = part.partition(">")
        if head.endswith("/"):
            head, content = head[:-1], ""
        elif i + 1 < len(parts) and parts[i + 1][:1] != "/":
            continue  # a container: what follows its open tag is a child, not its close
        name = head.split(None, 1)[0].rpartition(":")[2] if head.strip() else ""
        content = content.strip()
        found[name] = unescape(content) if "&" in content else content
    return found
