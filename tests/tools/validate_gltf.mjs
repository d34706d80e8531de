// Validate a .glb/.gltf file with the Khronos glTF Validator and print its JSON report on stdout.
//
//   node tests/tools/validate_gltf.mjs FILE
//
// The validator is the npm package gltf-validator, installed at the repository root by
//   npm install --prefix .tools --no-save gltf-validator@2.0.0-dev.3.10
// (.tools/ is git-ignored); an install found through NODE_PATH works too.
// Exit status: 0 report printed (read issues.numErrors), 2 bad usage or validator missing, 3 validation failed to run.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function loadValidator() {
  const require = createRequire(import.meta.url);
  for (const name of [resolve(root, ".tools", "node_modules", "gltf-validator"), "gltf-validator"]) {
    try {
      return require(name);
    } catch (error) {
      if (error.code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  console.error(
    "gltf-validator is not installed; at the repository root run:\n" +
      "  npm install --prefix .tools --no-save gltf-validator@2.0.0-dev.3.10",
  );
  process.exit(2);
}

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error("usage: node tests/tools/validate_gltf.mjs FILE.glb");
  process.exit(2);
}
const validator = loadValidator();
try {
  const report = await validator.validateBytes(new Uint8Array(readFileSync(file)), {
    uri: file,
    maxIssues: 0,
    writeTimestamp: false,
  });
  console.log(JSON.stringify(report, null, 1));
} catch (error) {
  console.error(`validation failed to run: ${error}`);
  process.exit(3);
}
