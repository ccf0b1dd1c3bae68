// The ocdoctor extension: starts `ocdoctor lsp` for OpenOCD scripts and launch files, and
// shows the diagnosis of the last `ocdoctor run` in a Markdown preview. Everything that
// does not need VS Code lives in logic.ts.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";
import {
  WATCHED_PATTERNS,
  lastLogPath,
  ocdoctorCommand,
  runDiagnose,
  serverArgs,
} from "./logic";

/** The diagnosis is shown from a virtual document: nothing is written to the workspace. */
const DIAGNOSIS_SCHEME = "ocdoctor-diagnosis";

let client: LanguageClient | undefined;

class DiagnosisDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, markdown: string): void {
    this.texts.set(uri.toString(), markdown);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }
}

function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("ocdoctor");
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const command = ocdoctorCommand(settings().get<string>("path"));
  const serverOptions: ServerOptions = {
    command,
    args: serverArgs(),
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: WATCHED_PATTERNS.map((pattern) => ({ scheme: "file", pattern })),
    outputChannelName: "ocdoctor",
  };
  client = new LanguageClient("ocdoctor", "ocdoctor", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `ocdoctor: cannot start \`${command} lsp\` (${String(e)}). Set "ocdoctor.path" to the ocdoctor executable.`,
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

async function diagnoseLastFailure(docs: DiagnosisDocuments): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) {
    void vscode.window.showErrorMessage("ocdoctor: open the folder OpenOCD ran in first.");
    return;
  }
  const log = lastLogPath(folder.uri.fsPath, settings().get<string>("lastLog"));
  const command = ocdoctorCommand(settings().get<string>("path"));
  const answer = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "ocdoctor: diagnosing" },
    () => runDiagnose(command, log, folder.uri.fsPath),
  );
  if (answer.kind === "error") {
    void vscode.window.showErrorMessage(
      `ocdoctor: ${answer.message}. Start OpenOCD through \`ocdoctor run\` to keep its log in ${log}.`,
    );
    return;
  }
  const uri = vscode.Uri.from({ scheme: DIAGNOSIS_SCHEME, path: "/OpenOCD diagnosis.md" });
  docs.set(uri, answer.markdown);
  try {
    await vscode.commands.executeCommand("markdown.showPreview", uri);
  } catch {
    // Without the built-in Markdown extension: the text itself.
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const docs = new DiagnosisDocuments();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(DIAGNOSIS_SCHEME, docs),
    vscode.commands.registerCommand("ocdoctor.diagnoseLastFailure", () => diagnoseLastFailure(docs)),
    vscode.commands.registerCommand("ocdoctor.restartServer", async () => {
      await client?.stop();
      await startClient(context);
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
