// A minimal VS Code client for `cpt lsp`: starts the server for the workspace and passes the
// `cpt.*` settings as its initialization options. The server's commands (go to a copy, accept
// a class) are registered by the language client from the server's capabilities.
const { workspace } = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const LANGUAGES = ['python', 'rust', 'go', 'java', 'c', 'cpp', 'javascript', 'javascriptreact',
  'typescript', 'typescriptreact'];

let client;

function options() {
  const c = workspace.getConfiguration('cpt');
  const o = { severity: c.get('severity'), types: c.get('types'), tests: c.get('tests') };
  if (c.get('minLines') != null) o.minLines = c.get('minLines');
  return o;
}

exports.activate = function activate() {
  const server = { command: workspace.getConfiguration('cpt').get('path'), args: ['lsp'] };
  client = new LanguageClient('cpt', 'cpt', server, {
    documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
    initializationOptions: options(),
  });
  workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('cpt') && client) {
      client.sendNotification('workspace/didChangeConfiguration', { settings: { cpt: options() } });
    }
  });
  return client.start();
};

exports.deactivate = function deactivate() {
  return client ? client.stop() : undefined;
};
