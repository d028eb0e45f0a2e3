// Starts `scn lsp` (the language server of .scn files) for the workspace: the command from the
// setting `scn.serverPath`, else the workspace's .venv/bin/scn, else `scn` on the PATH.
"use strict";
const fs = require("fs");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration("scn").get("serverPath");
  if (configured) {
    return configured;
  }
  for (const folder of vscode.workspace.workspaceFolders || []) {
    const local = path.join(folder.uri.fsPath, ".venv", "bin", "scn");
    if (fs.existsSync(local)) {
      return local;
    }
  }
  return "scn";
}

function activate(context) {
  const command = serverCommand();
  client = new LanguageClient(
    "scn",
    "scn language server",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "scn" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverCommand };
