//! Out-of-stock e-mails to the stock team, sent over SMTP from the outbox: recorded in
//! the transaction of the allocation that ran out, sent after it, retried until the
//! SMTP server takes them (or refuses them for good: then logged and given up, so the
//! mail behind is not held up). A mail that cannot be sent never fails an allocation.

use std::sync::Arc;

use axum::http::Uri;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use super::StoreError;
use super::outbox::keep_draining;
use super::sql::{Outcome, SqlStore};

/// An e-mail as it waits in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// A recorded e-mail not yet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: i64,
    pub mail: Mail,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the outbox: {0}")]
    Store(#[from] StoreError),
    #[error("SMTP URL {0:?}: {1}")]
    Url(String, String),
    #[error("address {0:?}: {1}")]
    Address(String, lettre::address::AddressError),
    #[error("building the message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl MailError {
    /// Whether trying again can never help: a bad address or message, or an SMTP
    /// server's 5xx answer.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Address(..) | Self::Message(_) => true,
            Self::Smtp(error) => error.is_permanent(),
            Self::Url(..) | Self::Store(_) => false,
        }
    }
}

/// Sends e-mail through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url` is `smtp://[user:password@]host[:port]` (port 25 by default). The
    /// connection is not encrypted: point it at the local mail relay.
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let bad = |why: &str| MailError::Url(url.to_owned(), why.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("smtp") {
            return Err(bad("the scheme must be smtp://"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let mut transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(authority.host())
                .port(authority.port_u16().unwrap_or(25));
        if let Some((user, password)) = credentials(authority.as_str()).map_err(bad)? {
            transport = transport.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: transport.build(),
            from: mailbox(from)?,
        })
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mailbox(&mail.recipient)?)
            .subject(&mail.subject)
            .body(mail.body.clone())?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// The user and password of a URL's authority (`user:password@host`), percent-decoded,
/// so that a password may hold any character (`%40` for `@`, `%3A` for `:`).
fn credentials(authority: &str) -> Result<Option<(String, String)>, &'static str> {
    let Some((user, password)) = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
    else {
        return Ok(None);
    };
    let decode = |raw: &str| {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map(String::from)
            .map_err(|_| "the user and password must be UTF-8 once percent-decoded")
    };
    Ok(Some((decode(user)?, decode(password)?)))
}

/// An e-mail address as the mailer will need it: check configured ones at start-up.
pub fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|error| MailError::Address(address.to_owned(), error))
}

/// Sends every recorded e-mail, oldest first.
pub async fn send_pending(store: &SqlStore, mailer: &Mailer) -> Result<(), MailError> {
    loop {
        let claimed = store.claim_mail(100).await?;
        if claimed.rows.is_empty() {
            return Ok(());
        }
        let mut handled = Vec::new();
        for item in &claimed.rows {
            match mailer.send(&item.mail).await {
                Ok(()) => handled.push((item.id, Outcome::Sent)),
                Err(error) if error.is_permanent() => {
                    tracing::error!(
                        %error,
                        recipient = %item.mail.recipient,
                        subject = %item.mail.subject,
                        "e-mail refused for good; giving up on it"
                    );
                    handled.push((item.id, Outcome::GivenUp));
                }
                Err(error) => {
                    // Keep what was handled; the rest waits for the mail server.
                    claimed.finish(&handled).await?;
                    return Err(error);
                }
            }
        }
        claimed.finish(&handled).await?;
    }
}

/// Sends the outbox's e-mail for as long as the server runs.
pub async fn mail_relay(store: SqlStore, mailer: Mailer, wake: Arc<Notify>) {
    keep_draining("mail relay", wake, || send_pending(&store, &mailer)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "desk@made.com").is_ok());
        assert!(Mailer::new("smtp://user:secret@mail.local", "desk@made.com").is_ok());
        assert!(matches!(
            Mailer::new("http://mail.local", "desk@made.com"),
            Err(MailError::Url(..))
        ));
        assert!(matches!(
            Mailer::new("smtp://mail.local", "not an address"),
            Err(MailError::Address(..))
        ));
    }

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(credentials("mail.local:25"), Ok(None));
        assert_eq!(
            credentials("desk%40made.com:p%3Ass%40w%25rd@mail.local"),
            Ok(Some(("desk@made.com".into(), "p:ss@w%rd".into())))
        );
        assert!(credentials("user:%FF@mail.local").is_err());
    }
}
