//! # ocdoctor-lsp: `ocdoctor lsp`, a language server on stdio
//!
//! The only crate that knows LSP. It keeps the open buffers and runs the engine's check
//! (`engine.rs`, the one module that calls `ocdoctor-engine`) on them, so the editor shows what
//! `ocdoctor check` says, at the same places:
//!
//! * diagnostics on open/change for `.cfg`/`.tcl`, `.vscode/launch.json`, `*.launch`,
//!   `platformio.ini` (ranges in UTF-16, the protocol's default encoding; `text.rs`);
//! * code actions that apply the check's edits (a `WorkspaceEdit`);
//! * hover on an OpenOCD command (`knowledge.rs`: usage, releases, replacement, and the
//!   installed OpenOCD's `help`) and on a rule code (its docs);
//! * go-to-definition on `source [find X]` / `-f X` / `configFiles` names; completion of cfg
//!   names from the installed scripts tree.
//!
//! Requests are answered in order on one thread: a check takes a few milliseconds.

mod engine;
mod knowledge;
mod server;
mod text;

use lsp_server::{Connection, ExtractError, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, HoverProviderCapability, InitializeParams,
    OneOf, PublishDiagnosticsParams, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, Url,
};
use serde::Deserialize;
use server::State;
use std::path::PathBuf;
use text::Document;

/// Why the server stopped other than by `shutdown`/`exit`.
#[derive(Debug, thiserror::Error)]
pub enum LspError {
    #[error("LSP protocol error: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),
    #[error("invalid LSP message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the connection to the client failed: {0}")]
    Io(#[from] std::io::Error),
}

/// `initializationOptions` the server reads (all optional): the OpenOCD to check against, as
/// `ocdoctor check --openocd/--scripts`.
#[derive(Debug, Default, Deserialize)]
struct InitOptions {
    openocd: Option<PathBuf>,
    scripts: Option<PathBuf>,
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["/".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Serve on stdin/stdout until the client says `exit`.
pub fn run_stdio() -> Result<(), LspError> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}

fn serve(connection: &Connection) -> Result<(), LspError> {
    let init = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo { name: "ocdoctor".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params)?;
    connection.initialize_finish(id, init)?;
    let mut state = State::new(workspace_root(&params));
    if let Some(o) = params.initialization_options {
        let o: InitOptions = serde_json::from_value(o).unwrap_or_default();
        state.options.openocd = o.openocd;
        state.options.scripts = o.scripts;
    }
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection.handle_shutdown(&req)? {
                    return Ok(());
                }
                let resp = answer(&mut state, req);
                connection
                    .sender
                    .send(Message::Response(resp))
                    .map_err(|_| io_closed())?;
            }
            Message::Notification(n) => notified(connection, &mut state, n)?,
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn io_closed() -> LspError {
    LspError::Io(std::io::Error::new(
        std::io::ErrorKind::BrokenPipe,
        "the client closed the connection",
    ))
}

/// The workspace folder (checks run there, like `ocdoctor check` in a terminal opened there).
fn workspace_root(params: &InitializeParams) -> PathBuf {
    #[allow(deprecated)] // rootUri: older clients send only this.
    let root_uri = params.root_uri.clone();
    params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or(root_uri)
        .and_then(|u| u.to_file_path().ok())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

fn answer(state: &mut State, req: Request) -> Response {
    let id = req.id.clone();
    let result = match req.method.as_str() {
        HoverRequest::METHOD => parse::<HoverRequest>(req).map(|p| {
            let at = p.text_document_position_params;
            serde_json::to_value(state.hover(&at.text_document.uri, at.position))
        }),
        GotoDefinition::METHOD => parse::<GotoDefinition>(req).map(|p| {
            let at = p.text_document_position_params;
            serde_json::to_value(state.definition(&at.text_document.uri, at.position))
        }),
        Completion::METHOD => parse::<Completion>(req).map(|p| {
            let at = p.text_document_position;
            serde_json::to_value(state.completion(&at.text_document.uri, at.position))
        }),
        CodeActionRequest::METHOD => parse::<CodeActionRequest>(req)
            .map(|p| serde_json::to_value(state.code_actions(&p.text_document.uri, p.range))),
        _ => return error(id, lsp_server::ErrorCode::MethodNotFound, "unknown method"),
    };
    match result {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(e)) => error(id, lsp_server::ErrorCode::InternalError, &e.to_string()),
        Err(e) => error(id, lsp_server::ErrorCode::InvalidParams, &e),
    }
}

fn parse<R: lsp_types::request::Request>(req: Request) -> Result<R::Params, String> {
    match req.extract::<R::Params>(R::METHOD) {
        Ok((_, params)) => Ok(params),
        Err(ExtractError::JsonError { error, .. }) => Err(error.to_string()),
        Err(ExtractError::MethodMismatch(r)) => Err(format!("unexpected method {}", r.method)),
    }
}

fn error(id: RequestId, code: lsp_server::ErrorCode, message: &str) -> Response {
    Response::new_err(id, code as i32, message.to_string())
}

fn notified(connection: &Connection, state: &mut State, n: Notification) -> Result<(), LspError> {
    let changed: Vec<Url> = match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
            let uri = p.text_document.uri;
            state
                .docs
                .insert(uri.clone(), Document::new(p.text_document.text));
            check_if_ours(state, &uri)
        }
        DidChangeTextDocument::METHOD => {
            let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
            let uri = p.text_document.uri;
            // Full sync: the last change holds the whole text.
            if let Some(c) = p.content_changes.into_iter().last() {
                state.docs.insert(uri.clone(), Document::new(c.text));
            }
            check_if_ours(state, &uri)
        }
        DidSaveTextDocument::METHOD => {
            let p: lsp_types::DidSaveTextDocumentParams = serde_json::from_value(n.params)?;
            check_if_ours(state, &p.text_document.uri)
        }
        DidCloseTextDocument::METHOD => {
            let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
            let uri = p.text_document.uri;
            state.docs.remove(&uri);
            let gone = state.published.remove(&uri).unwrap_or_default();
            let mut targets: Vec<Url> = gone.into_iter().map(|p| p.target).collect();
            targets.push(uri);
            targets.dedup();
            targets
        }
        _ => Vec::new(),
    };
    for uri in changed {
        let params = PublishDiagnosticsParams::new(uri.clone(), state.diagnostics_for(&uri), None);
        let note = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        connection
            .sender
            .send(Message::Notification(note))
            .map_err(|_| io_closed())?;
    }
    Ok(())
}

fn check_if_ours(state: &mut State, uri: &Url) -> Vec<Url> {
    match uri.to_file_path() {
        Ok(p) if server::is_checked(&p) => state.check(uri),
        _ => Vec::new(),
    }
}
