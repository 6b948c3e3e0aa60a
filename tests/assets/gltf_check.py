"""The independent glTF check: Khronos glTF-Validator on Node, else pygltflib; never a silent pass.

`.ci/run` installs the validator with `npm install --prefix .ci/node gltf-validator`. When Node or
the package is missing, pygltflib (a second, non-Blender reader) must load the file instead; when
neither is available the check fails and says how to install one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

__all__ = ["validator_available", "gltf_errors"]

PROJECT = Path(__file__).resolve().parents[2]
VALIDATOR = PROJECT / ".ci" / "node" / "node_modules" / "gltf-validator"
SCRIPT = """
const validator = require(process.argv[1]);
const data = new Uint8Array(require('fs').readFileSync(process.argv[2]));
validator.validateBytes(data).then(r => console.log(JSON.stringify(r.issues)))
  .catch(e => { console.error(String(e)); process.exit(3); });
"""


def validator_available() -> bool:
    return shutil.which("node") is not None and (VALIDATOR / "package.json").is_file()


def gltf_errors(path: Path) -> list[str]:
    """The validator's error messages for a .glb (empty when it validates)."""
    if validator_available():
        done = subprocess.run(["node", "-e", SCRIPT, str(VALIDATOR), str(path)], capture_output=True, text=True,
                              timeout=120, check=True)
        issues = json.loads(done.stdout)
        return [f"{m['code']}: {m['message']} at {m.get('pointer')}" for m in issues["messages"] if m["severity"] == 0]
    try:
        import pygltflib  # noqa: PLC0415
    except ImportError:
        raise AssertionError("no glTF checker: run `npm install --prefix .ci/node gltf-validator` "
                             "(or pip install pygltflib)") from None
    try:
        gltf = pygltflib.GLTF2().load_binary(str(path))
    except Exception as e:  # noqa: BLE001 - whatever the reader trips on is the file's error
        return [f"pygltflib could not read {path.name}: {type(e).__name__}: {e}"]
    return [] if gltf.meshes and gltf.binary_blob() else [f"pygltflib found no meshes or no buffer in {path.name}"]
