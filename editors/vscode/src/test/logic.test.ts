// Unit tests of the extension's pure parts (node --test). The `runDiagnose` test runs the real
// ocdoctor binary named by OCDOCTOR_BIN (the Rust test `vscode_extension` sets it).

import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  WATCHED_PATTERNS,
  WRAPPER_SH,
  cortexDebugSnippet,
  diagnoseArgs,
  interpretDiagnose,
  lastLogPath,
  ocdoctorCommand,
  runDiagnose,
  serverArgs,
} from "../logic";

test("the server is `ocdoctor lsp`, from the setting or PATH", () => {
  assert.equal(ocdoctorCommand(undefined), "ocdoctor");
  assert.equal(ocdoctorCommand("  "), "ocdoctor");
  assert.equal(ocdoctorCommand("/opt/ocdoctor/bin/ocdoctor"), "/opt/ocdoctor/bin/ocdoctor");
  assert.deepEqual(serverArgs(), ["lsp"]);
});

test("the watched files are the ones ocdoctor check reads", () => {
  for (const p of ["**/*.cfg", "**/*.tcl", "**/.vscode/launch.json", "**/*.launch", "**/platformio.ini"]) {
    assert.ok(WATCHED_PATTERNS.includes(p), p);
  }
});

test("the last log is .ocdoctor/last.log in the workspace unless set", () => {
  assert.equal(lastLogPath("/w/proj", undefined), path.join("/w/proj", ".ocdoctor", "last.log"));
  assert.equal(lastLogPath("/w/proj", "logs/openocd.log"), path.join("/w/proj", "logs", "openocd.log"));
  assert.equal(lastLogPath("/w/proj", "/tmp/o.log"), "/tmp/o.log");
  assert.deepEqual(diagnoseArgs("/tmp/o.log"), ["diagnose", "--format", "markdown", "/tmp/o.log"]);
});

test("diagnose's exit codes: 0 and 1 are reports, 2 and failures to start are errors", () => {
  assert.deepEqual(interpretDiagnose(1, "## OpenOCD diagnosis\n", ""), {
    kind: "report",
    markdown: "## OpenOCD diagnosis\n",
    problemsFound: true,
  });
  const ok = interpretDiagnose(0, "## OpenOCD diagnosis\n", "");
  assert.equal(ok.kind === "report" && ok.problemsFound, false);
  assert.deepEqual(interpretDiagnose(2, "", "ocdoctor: error: cannot open x.log: No such file\n"), {
    kind: "error",
    message: "cannot open x.log: No such file",
  });
  assert.equal(interpretDiagnose(101, "", "").kind, "error");
  const notFound = interpretDiagnose(null, "", "", "spawn ocdoctor ENOENT");
  assert.ok(notFound.kind === "error" && notFound.message.includes("ocdoctor.path"));
});

test("the Cortex-Debug snippet uses only Cortex-Debug's own keys", () => {
  const snippet = JSON.parse(cortexDebugSnippet("${workspaceFolder}/.vscode/openocd-ocdoctor"));
  assert.deepEqual(Object.keys(snippet).sort(), ["serverpath", "servertype"]);
  assert.equal(snippet.servertype, "openocd");
  assert.match(WRAPPER_SH, /exec ocdoctor run -- openocd "\$@"/);
});

test("runDiagnose reads a real ocdoctor's answer", { skip: process.env.OCDOCTOR_BIN === undefined }, async () => {
  const bin = process.env.OCDOCTOR_BIN as string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ocdoctor-vscode-"));
  fs.mkdirSync(path.join(dir, ".ocdoctor"));
  const log = lastLogPath(dir, undefined);
  fs.writeFileSync(
    log,
    "Open On-Chip Debugger 0.12.0\nInfo : clock speed 1000 kHz\nError: open failed\n",
  );
  const answer = await runDiagnose(bin, log, dir);
  assert.equal(answer.kind, "report");
  assert.ok(answer.kind === "report" && answer.problemsFound);
  assert.ok(answer.kind === "report" && answer.markdown.includes("## OpenOCD diagnosis"));
  const missing = await runDiagnose(bin, path.join(dir, "none.log"), dir);
  assert.ok(missing.kind === "error" && missing.message.includes("none.log"), JSON.stringify(missing));
  const noBinary = await runDiagnose(path.join(dir, "no-such-ocdoctor"), log, dir);
  assert.ok(noBinary.kind === "error" && noBinary.message.includes("ocdoctor.path"));
  fs.rmSync(dir, { recursive: true, force: true });
});
