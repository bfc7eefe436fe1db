#!/usr/bin/env python3
# process_client_phone — the same +7 / 8 normalisation as the .mjs example, as an
# executable in another language: JSON on stdin, JSON on stdout.
# Activate: copy to process_client_phone.py (keep the exec bit: chmod +x) and remove
# or rename any other process_client_phone.* file (a .mjs/.js module wins).
import json
import re
import sys


def normalise(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "+7" + digits
    return phone


def main() -> None:
    request = json.load(sys.stdin)
    phone = normalise(str(request.get("phone", "")))
    # Anything written to stderr ends up in the connector's log.
    print(f"process_client_phone: {request.get('phone')!r} -> {phone!r}", file=sys.stderr)
    json.dump({"state": "success", "data": {"phone": phone}}, sys.stdout)


if __name__ == "__main__":
    main()
