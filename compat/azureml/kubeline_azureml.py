"""``python -m kubeline_azureml``: say where ``import azureml`` resolves in this environment."""

from __future__ import annotations

import sys


def main() -> int:
    from kubeline.azureml_alias import microsoft_sdk

    where = microsoft_sdk()
    if where is not None:
        print(f"azureml -> Microsoft's SDK ({where}); kubeline's is inactive here: use a "
              "virtualenv without azureml-* for kubeline, or KUBELINE_AZUREML=kubeline")
        return 1
    import azureml

    print(f"azureml -> kubeline ({azureml.__file__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
