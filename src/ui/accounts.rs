//! `/accounts` (managers only): staff accounts (add, re-role, disable, enable) and
//! the API tokens machines use (create, revoke). A new token is shown once, on the
//! page the form returns to, then only its name is kept in view.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::common::{Column, failure, instant_text, listing, loading};
use super::form::{Field, FormError, FormMessage, Submission, refusal, refused_by};
use crate::domain::staff::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub username: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsOverview {
    pub accounts: Vec<AccountRow>,
    pub tokens: Vec<TokenRow>,
    /// The token created just now, shown this once.
    pub new_token: Option<String>,
}

#[server(prefix = "/api", endpoint = "views/accounts", input = GetUrl)]
pub async fn read_accounts() -> Result<AccountsOverview, ServerFnError> {
    server::overview().await
}

#[server(prefix = "/api", endpoint = "accounts/add")]
pub async fn add_account(
    username: String,
    password: String,
    role: String,
) -> Result<Submission, ServerFnError> {
    let typed = (username.clone(), role.clone());
    let input = [("username", typed.0.as_str()), ("role", typed.1.as_str())];
    server::manage(&input, async move |staff, actor| {
        let role = server::role(&role)?;
        staff
            .create_account(&actor, &username, &password, role)
            .await
            .map(drop)
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/role")]
pub async fn change_role(username: String, role: String) -> Result<Submission, ServerFnError> {
    server::manage(&[], async move |staff, actor| {
        let role = server::role(&role)?;
        staff.set_role(&actor, &username, role).await
    })
    .await
}

/// `active`: `true` enables the account, anything else disables it.
#[server(prefix = "/api", endpoint = "accounts/access")]
pub async fn set_access(username: String, active: String) -> Result<Submission, ServerFnError> {
    server::manage(&[], async move |staff, actor| {
        staff.set_active(&actor, &username, active == "true").await
    })
    .await
}

#[server(prefix = "/api", endpoint = "tokens/create")]
pub async fn create_token(name: String, role: String) -> Result<Submission, ServerFnError> {
    let typed = (name.clone(), role.clone());
    let input = [("name", typed.0.as_str()), ("role", typed.1.as_str())];
    server::manage(&input, async move |staff, actor| {
        let role = server::role(&role)?;
        let token = staff.create_token(&actor, &name, role).await?;
        server::keep_new_token(&token);
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<Submission, ServerFnError> {
    server::manage(&[], async move |staff, actor| {
        let id =
            id.trim()
                .parse()
                .map_err(|_| crate::service_layer::staff::StaffError::Invalid {
                    field: "id",
                    message: "No such token".to_owned(),
                })?;
        staff.revoke_token(&actor, id).await
    })
    .await
}

#[cfg(feature = "ssr")]
mod server {
    use axum::http::{StatusCode, header};
    use leptos::prelude::{ServerFnError, expect_context, use_context};

    use super::{AccountRow, AccountsOverview, TokenRow};
    use crate::bootstrap::Services;
    use crate::domain::staff::{Actor, Role};
    use crate::entrypoints::access;
    use crate::service_layer::staff::{Staff, StaffError};
    use crate::ui::form::{FormError, Submission, acting, submit};
    use crate::ui::reads::unavailable;

    /// Carries a new token to the page that shows it once: to scripts unreadable,
    /// never sent cross-site, cleared when shown.
    const NEW_TOKEN_COOKIE: &str = "desk_new_token";

    fn forbidden() -> ServerFnError {
        expect_context::<leptos_axum::ResponseOptions>().set_status(StatusCode::FORBIDDEN);
        ServerFnError::new(StaffError::Forbidden.to_string())
    }

    pub fn role(raw: &str) -> Result<Role, StaffError> {
        Role::parse(raw).map_err(|error| StaffError::Invalid {
            field: "role",
            message: format!("The {error}"),
        })
    }

    /// Runs an account change for the manager who posted it, then back to the page.
    pub async fn manage(
        input: &[(&str, &str)],
        work: impl AsyncFnOnce(Staff, Actor) -> Result<(), StaffError>,
    ) -> Result<Submission, ServerFnError> {
        let services = expect_context::<Services>();
        let Some(actor) =
            acting().filter(|actor| actor.may(crate::domain::staff::Permission::ManageAccounts))
        else {
            return Err(forbidden());
        };
        submit(input, async {
            work(services.staff.clone(), actor)
                .await
                .map_err(FormError::from_staff)?;
            Ok("/accounts".to_owned())
        })
        .await
    }

    pub fn keep_new_token(token: &str) {
        let secure = expect_context::<Services>().secure_cookies;
        set_cookie(&format!("{NEW_TOKEN_COOKIE}={token}; Max-Age=300"), secure);
    }

    fn set_cookie(pair: &str, secure: bool) {
        expect_context::<leptos_axum::ResponseOptions>().append_header(
            header::SET_COOKIE,
            access::set_cookie(pair, "Strict", secure),
        );
    }

    fn new_token() -> Option<String> {
        let parts = use_context::<axum::http::request::Parts>()?;
        let token = access::cookie_value(&parts.headers, NEW_TOKEN_COOKIE)?.to_owned();
        let secure = expect_context::<Services>().secure_cookies;
        set_cookie(&format!("{NEW_TOKEN_COOKIE}=; Max-Age=0"), secure);
        Some(token)
    }

    pub async fn overview() -> Result<AccountsOverview, ServerFnError> {
        let services = expect_context::<Services>();
        let actor = acting().ok_or_else(forbidden)?;
        let failed = |error: StaffError| match error {
            StaffError::Forbidden => forbidden(),
            other => unavailable(other),
        };
        let accounts = services.staff.accounts(&actor).await.map_err(failed)?;
        let tokens = services.staff.tokens(&actor).await.map_err(failed)?;
        Ok(AccountsOverview {
            accounts: accounts
                .into_iter()
                .map(|account| AccountRow {
                    username: account.username.to_string(),
                    role: account.role,
                    active: account.disabled_at.is_none(),
                })
                .collect(),
            tokens: tokens
                .into_iter()
                .map(|token| TokenRow {
                    id: token.id,
                    name: token.name,
                    role: token.role,
                    created_by: token.created_by,
                    created_at: chrono::DateTime::from_timestamp(token.created_at, 0)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    revoked: token.revoked_at.is_some(),
                })
                .collect(),
            new_token: new_token(),
        })
    }
}

/// A `<select>` of the roles, `selected` chosen.
fn role_select(id: String, selected: Role) -> impl IntoView {
    let options = Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected={role == selected}>{role.as_str()}</option> })
        .collect_view();
    view! { <select id=id name="role">{options}</select> }
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |()| read_accounts());
    let row_error = Signal::stored(refused_by(&[
        ChangeRole::PATH,
        SetAccess::PATH,
        RevokeToken::PATH,
    ]));
    let (add_refused, token_refused) = (
        refused_by(&[AddAccount::PATH]),
        refused_by(&[CreateToken::PATH]),
    );
    view! {
        <Title text="Accounts" />
        <h1>"Accounts"</h1>
        <FormMessage error=row_error />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
        <section class="panel" aria-labelledby="add-account-heading">
            <h2 id="add-account-heading">"Add account"</h2>
            <AddAccountForm refused=add_refused />
        </section>
        <section class="panel" aria-labelledby="create-token-heading">
            <h2 id="create-token-heading">"Create API token"</h2>
            <CreateTokenForm refused=token_refused />
        </section>
    }
}

/// Answers a refusal in place when the browser runs it.
#[island]
fn AddAccountForm(refused: Option<FormError>) -> impl IntoView {
    let add = ServerAction::<AddAccount>::new();
    let error = refusal(add.value(), refused);
    view! {
        <ActionForm action=add attr:class="command">
            <FormMessage error />
            <Field form="add-account" label="Username" name="username" required=true error />
            <Field form="add-account" label="Password" name="password" kind="password" required=true hint="At least 8 characters: tell it to them in person." error />
            <div class="field">
                <label for="add-account-role">"Role"</label>
                {role_select("add-account-role".to_owned(), Role::Viewer)}
            </div>
            <button type="submit">"Add account"</button>
        </ActionForm>
    }
}

/// Answers a refusal in place when the browser runs it.
#[island]
fn CreateTokenForm(refused: Option<FormError>) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let error = refusal(create.value(), refused);
    view! {
        <ActionForm action=create attr:class="command">
            <FormMessage error />
            <Field form="create-token" label="Name" name="name" required=true hint="What will use it, e.g. the web shop." error />
            <div class="field">
                <label for="create-token-role">"Role"</label>
                {role_select("create-token-role".to_owned(), Role::Clerk)}
            </div>
            <button type="submit">"Create token"</button>
        </ActionForm>
    }
}

/// The accounts and tokens, each row's changes a plain form: the page is shown again
/// either way.
#[component]
fn Overview(overview: AccountsOverview) -> impl IntoView {
    let new_token = overview.new_token.map(|token| {
        view! {
            <div class="notice" role="status">
                <h2>"New API token"</h2>
                <p>"Copy it now: it is not shown again. Send it as " <code>"Authorization: Bearer <token>"</code> "."</p>
                <p><code class="token" data-token>{token}</code></p>
            </div>
        }
    });
    let accounts = overview
        .accounts
        .into_iter()
        .map(|account| {
            let id = format!("role-{}", account.username);
            let (label, next) = if account.active { ("Disable", "false") } else { ("Enable", "true") };
            let username = account.username;
            let (role, active) = (account.role, account.active);
            let (role_of, access_of) = (username.clone(), username.clone());
            view! {
                <tr>
                    <td>{username}</td>
                    <td>
                        <form method="post" action=ChangeRole::PATH class="inline">
                            <label class="visually-hidden" for=id.clone()>"Role of " {role_of.clone()}</label>
                            <input type="hidden" name="username" value=role_of />
                            {role_select(id, role)}
                            <button type="submit" class="secondary">"Change role"</button>
                        </form>
                    </td>
                    <td>{if active { "active" } else { "disabled" }}</td>
                    <td class="row-action">
                        <form method="post" action=SetAccess::PATH>
                            <input type="hidden" name="username" value=access_of />
                            <input type="hidden" name="active" value=next />
                            <button type="submit" class="secondary">{label}</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect();
    let account_columns = [
        Column::Text("Username"),
        Column::Text("Role"),
        Column::Text("Access"),
        Column::Unlabelled("Actions"),
    ];
    let tokens = overview
        .tokens
        .into_iter()
        .map(|token| {
            let action = (!token.revoked).then(|| {
                view! {
                    <form method="post" action=RevokeToken::PATH>
                        <input type="hidden" name="id" value=token.id.to_string() />
                        <button type="submit" class="secondary">"Revoke"</button>
                    </form>
                }
            });
            view! {
                <tr>
                    <td>{token.name}</td>
                    <td>{token.role.as_str()}</td>
                    <td>{token.created_by}</td>
                    <td>{instant_text(&token.created_at)}</td>
                    <td>{if token.revoked { "revoked" } else { "live" }}</td>
                    <td class="row-action">{action}</td>
                </tr>
            }
        })
        .collect();
    let token_columns = [
        Column::Text("Name"),
        Column::Text("Role"),
        Column::Text("Created by"),
        Column::Text("Created (UTC)"),
        Column::Text("State"),
        Column::Unlabelled("Actions"),
    ];
    view! {
        {new_token}
        <h2>"Staff"</h2>
        {listing("accounts", &account_columns, accounts, "No account.")}
        <h2>"API tokens"</h2>
        {listing("tokens", &token_columns, tokens, "No API token yet.")}
    }
    .into_any()
}
