//! `vedette api`: the automation API's tokens and its OpenAPI document.

use clap::{Args, Subcommand};
use vedette_app::App;
use vedette_model::TokenScope;

use crate::feed::FeedArgs;
use crate::{Failure, Format};

#[derive(Subcommand)]
pub enum ApiCommand {
    /// Bearer tokens for the API: shown once, stored hashed.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Prints the API's OpenAPI 3.1 document.
    Openapi,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it (once: only its hash is kept).
    Create(CreateToken),
    /// Lists the tokens: name, scope, first characters, last use.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Revokes a token (by name or id): refused from the next request on.
    Revoke { token: String },
}

#[derive(Args)]
pub struct CreateToken {
    /// What the token is for (`ci`, `grafana`).
    #[arg(long)]
    name: String,
    /// read: look; scan: also add targets and start scans; admin: everything.
    #[arg(long, default_value = "read", value_parser = ["read", "scan", "admin"])]
    scope: String,
}

pub async fn run(app: &App, feeds: &FeedArgs, cmd: ApiCommand) -> Result<u8, Failure> {
    match cmd {
        ApiCommand::Openapi => {
            let state = vedette_api::ApiState::new(
                app.clone(),
                feeds.sources(),
                None,
                vedette_api::RateLimit::default(),
            );
            let (_, doc) = vedette_api::router(state);
            println!("{}", doc.to_pretty_json().map_err(anyhow::Error::from)?);
        }
        ApiCommand::Token(TokenCommand::Create(c)) => {
            let scope = TokenScope::parse(&c.scope)
                .ok_or_else(|| crate::usage(format!("--scope {}: read, scan or admin", c.scope)))?;
            let created = app.create_token(&c.name, scope).await?;
            eprintln!(
                "vedette: token '{}' ({} scope) created; it is shown once, keep it in a secret store",
                created.token.name, created.token.scope
            );
            println!("{}", created.secret);
        }
        ApiCommand::Token(TokenCommand::List { format }) => {
            let tokens = app.tokens().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&tokens)?),
                Format::Text => {
                    println!(
                        "{:<4} {:<20} {:<6} {:<11} {:<20} STATE",
                        "ID", "NAME", "SCOPE", "TOKEN", "LAST USED"
                    );
                    for t in tokens {
                        println!(
                            "{:<4} {:<20} {:<6} {:<11} {:<20} {}",
                            t.id,
                            vedette_model::printable(&t.name, false),
                            t.scope,
                            format!("{}…", t.prefix),
                            t.last_used_at
                                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_else(|| "never".into()),
                            match t.revoked_at {
                                Some(d) => format!("revoked {}", d.format("%Y-%m-%d")),
                                None => "live".into(),
                            }
                        );
                    }
                }
            }
        }
        ApiCommand::Token(TokenCommand::Revoke { token }) => {
            app.revoke_token(&token).await?;
            eprintln!("vedette: token '{token}' revoked");
        }
    }
    Ok(0)
}
