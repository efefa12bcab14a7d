"""The temporary-upload flow: the getPolicy grant and the OSS form upload it authorises.

Real OSS is strict about the PostObject form (every policy field present, ``file`` last,
no overwrite), and clients get it wrong in ways only a real upload shows, so the
emulator checks the same things and answers with OSS's XML errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any
from xml.sax.saxutils import escape

POLICY_TTL_SECONDS = 300.0
BUCKET = "dashscope-file-mgr"
ACCESS_KEY_ID = "LTAI5tEmulatorRehearsal"
SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided."
_REQUIRED_FIELDS = ("OSSAccessKeyId", "Signature", "policy", "key", "success_action_status", "x-oss-content-type")


class OssError(Exception):
    """An OSS error answer: HTTP status plus the XML ``Code`` and ``Message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Grant:
    """One issued upload policy, remembered so an upload can be tied to its model."""

    policy: str
    signature: str
    upload_dir: str
    model: str
    expires_at: float


@dataclass(frozen=True)
class UploadedObject:
    """A file stored through the emulator's OSS endpoint."""

    key: str
    model: str
    data: bytes
    content_type: str
    time: float


@dataclass(frozen=True)
class _Part:
    name: str
    filename: str | None
    data: bytes


def error_xml(code: str, message: str, request_id: str) -> bytes:
    """OSS's XML error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{escape(request_id)}</RequestId>\n  <HostId>127.0.0.1</HostId>\n</Error>\n"
    ).encode()


def _sign(secret: bytes, policy: str) -> str:
    return base64.b64encode(hmac.new(secret, policy.encode(), hashlib.sha1).digest()).decode()


def issue(secret: bytes, api_key: str, model: str, max_bytes: int, now: float) -> Grant:
    """A fresh policy whose base64 JSON really encodes the conditions the upload is checked against."""
    account = hashlib.sha256(api_key.encode()).hexdigest()[:32]
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    upload_dir = f"dashscope-instant/{account}/{day}/{uuid.uuid4()}"
    expires_at = now + POLICY_TTL_SECONDS
    document = {
        "expiration": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(expires_at)),
        "conditions": [
            ["content-length-range", 0, max_bytes],
            ["starts-with", "$key", upload_dir],
            {"bucket": BUCKET},
            {"x-oss-object-acl": "private"},
            {"x-oss-forbid-overwrite": "true"},
        ],
    }
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    return Grant(policy, _sign(secret, policy), upload_dir, model, expires_at)


def policy_data(grant: Grant, upload_host: str, max_bytes: int) -> dict[str, Any]:
    """The ``data`` object of the getPolicy answer."""
    return {
        "policy": grant.policy,
        "signature": grant.signature,
        "upload_dir": grant.upload_dir,
        "upload_host": upload_host,
        "expire_in_seconds": int(POLICY_TTL_SECONDS),
        "max_file_size_mb": max_bytes // (1024 * 1024),
        "capacity_limit_mb": 999999999,
        "oss_access_key_id": ACCESS_KEY_ID,
        "x_oss_object_acl": "private",
        "x_oss_forbid_overwrite": "true",
    }


def _parse_multipart(content_type: str, body: bytes) -> list[_Part]:
    """The form's parts in the order sent (order matters: ``file`` must be last)."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise OssError(400, "InvalidArgument", "The request must be multipart/form-data.")
    malformed = OssError(
        400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
    )
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(sections) < 2 or not sections[-1].startswith(b"--"):
        raise malformed
    parts: list[_Part] = []
    for section in sections[1:-1]:
        head, found, data = section.partition(b"\r\n\r\n")
        if not found or not head.startswith(b"\r\n"):
            raise malformed
        disposition = Message()
        for line in head[2:].decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            disposition[name.strip()] = value.strip()
        field = disposition.get_param("name", header="content-disposition")
        filename = disposition.get_param("filename", header="content-disposition")
        if not isinstance(field, str):
            raise malformed
        parts.append(_Part(field, filename if isinstance(filename, str) else None, data))
    return parts


def _policy_failed(condition: list[Any] | dict[str, Any]) -> OssError:
    message = f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    return OssError(403, "AccessDenied", message)


def accept_upload(
    secret: bytes,
    content_type: str,
    body: bytes,
    grants: dict[str, Grant],
    objects: dict[str, UploadedObject],
    now: float,
) -> UploadedObject:
    """Check a PostObject form like OSS and return the object to store (``OssError`` if refused)."""
    parts = _parse_multipart(content_type, body)
    names = [part.name for part in parts]
    if "file" not in names:
        raise OssError(400, "InvalidArgument", "The form has no file field.")
    if names[-1] != "file":
        raise OssError(400, "InvalidArgument", "The file field must be the last field of the form.")
    fields = {part.name: part.data.decode("utf-8", "replace") for part in parts[:-1]}
    for name in _REQUIRED_FIELDS:
        if not fields.get(name):
            raise OssError(400, "InvalidArgument", f"The form field {name} is required.")
    if fields["OSSAccessKeyId"] != ACCESS_KEY_ID:
        raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
    grant = grants.get(fields["policy"])
    if grant is None or not hmac.compare_digest(fields["Signature"], _sign(secret, fields["policy"])):
        raise OssError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    if now > grant.expires_at:
        raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    document = json.loads(base64.b64decode(grant.policy))
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            (name, expected), = condition.items()
            if name != "bucket" and fields.get(name) != expected:
                raise _policy_failed(["eq", f"${name}", expected])
        elif condition[0] == "starts-with":
            prefix = condition[2] + "/"
            if not fields["key"].startswith(prefix) or fields["key"] == prefix:
                raise _policy_failed(condition)
        elif not condition[1] <= len(parts[-1].data) <= condition[2]:
            raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    if fields["success_action_status"] != "200":
        raise OssError(400, "InvalidArgument", "The form field success_action_status must be 200.")
    if fields["key"] in objects:
        raise OssError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
    return UploadedObject(fields["key"], grant.model, parts[-1].data, fields["x-oss-content-type"], now)
