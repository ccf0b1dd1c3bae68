// The parts of the extension that do not need VS Code: which files the language server
// watches, how `ocdoctor` is started, how the last run's log is found and how `diagnose`'s
// answer is read. Unit-tested with node's test runner (src/test/logic.test.ts).

import { execFile } from "node:child_process";
import * as path from "node:path";

/** The files `ocdoctor lsp` checks (glob patterns, as a document selector's `pattern`). */
export const WATCHED_PATTERNS: readonly string[] = [
  "**/*.cfg",
  "**/*.tcl",
  "**/.vscode/launch.json",
  "**/*.launch",
  "**/platformio.ini",
];

/** The `ocdoctor` executable from the `ocdoctor.path` setting; blank means `ocdoctor` on PATH. */
export function ocdoctorCommand(setting: string | undefined): string {
  const s = (setting ?? "").trim();
  return s === "" ? "ocdoctor" : s;
}

/** The arguments that start the language server. */
export function serverArgs(): string[] {
  return ["lsp"];
}

/**
 * The log to diagnose: the `ocdoctor.lastLog` setting (default `.ocdoctor/last.log`, where
 * `ocdoctor run` keeps OpenOCD's output), relative to the workspace folder unless absolute.
 */
export function lastLogPath(workspaceFolder: string, setting: string | undefined): string {
  const s = (setting ?? "").trim() || ".ocdoctor/last.log";
  return path.isAbsolute(s) ? s : path.join(workspaceFolder, s);
}

/** `ocdoctor diagnose --format markdown LOG`. */
export function diagnoseArgs(logPath: string): string[] {
  return ["diagnose", "--format", "markdown", logPath];
}

/** What a `diagnose` run means for the user. */
export type Diagnosis =
  | { kind: "report"; markdown: string; problemsFound: boolean }
  | { kind: "error"; message: string };

/**
 * Read `ocdoctor diagnose`'s exit: 0 (no problem) and 1 (problems found) carry a report on
 * stdout; 2 is a usage or input error with the reason on stderr; anything else (or a
 * process that could not start) is an error too.
 */
export function interpretDiagnose(
  exitCode: number | null,
  stdout: string,
  stderr: string,
  spawnError?: string,
): Diagnosis {
  if (spawnError !== undefined) {
    return {
      kind: "error",
      message: `cannot run ocdoctor (${spawnError}); set "ocdoctor.path" to the ocdoctor executable`,
    };
  }
  if ((exitCode === 0 || exitCode === 1) && stdout.trim() !== "") {
    return { kind: "report", markdown: stdout, problemsFound: exitCode === 1 };
  }
  const reason = stderr.trim().replace(/^ocdoctor: error: /, "");
  return {
    kind: "error",
    message: reason !== "" ? reason : `ocdoctor diagnose exited with status ${String(exitCode)}`,
  };
}

/** Run `ocdoctor diagnose` on a log (in `cwd`) and read its answer. */
export function runDiagnose(command: string, logPath: string, cwd: string): Promise<Diagnosis> {
  return new Promise((resolve) => {
    execFile(
      command,
      diagnoseArgs(logPath),
      { cwd, maxBuffer: 32 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        // A non-zero exit is an error for execFile but an answer for ocdoctor (1: problems).
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        const spawnError = error !== null && typeof error.code === "string" ? error.message : undefined;
        resolve(interpretDiagnose(code, stdout, stderr, spawnError));
      },
    );
  });
}

/**
 * The Cortex-Debug settings that start OpenOCD through `ocdoctor run`, for the user to copy
 * (the extension never edits launch.json): `serverpath` names a wrapper script, because
 * Cortex-Debug runs `serverpath` with OpenOCD's arguments and nothing before them.
 */
export function cortexDebugSnippet(wrapper: string): string {
  return JSON.stringify({ servertype: "openocd", serverpath: wrapper }, null, 2);
}

/** The wrapper script `serverpath` names (POSIX shell). */
export const WRAPPER_SH = '#!/bin/sh\nexec ocdoctor run -- openocd "$@"\n';

/** The wrapper script for Windows (`.cmd`). */
export const WRAPPER_CMD = "@echo off\r\nocdoctor run -- openocd %*\r\n";
