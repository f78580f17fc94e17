//! Staff accounts: the first manager, signing in and out, sessions that end after a
//! spell of inactivity, account management and API tokens. Managing takes
//! [`Permission::ManageAccounts`]; the caller's [`Actor`] says who asks.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::adapters::StoreError;
use crate::adapters::accounts::{AccountRecord, AccountStore, TokenRecord};
use crate::adapters::secrets::{
    decoy_hash, hash_password, new_token, token_digest, verify_password,
};
use crate::domain::staff::{Actor, Permission, Role, Username};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted: hashing is deliberately slow, so its input is bounded.
pub const MAX_PASSWORD_LEN: usize = 256;
/// Longest API token name.
pub const MAX_TOKEN_NAME_LEN: usize = 64;
/// Failed sign-ins to one username before it is locked for [`LOCKOUT`].
pub const MAX_FAILED_SIGN_INS: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// How long a token found live is trusted without asking the database again: how
/// long a token revoked on another server may still work on this one (on the server
/// that revokes it, it stops at once).
pub const TOKEN_RECHECK: Duration = Duration::from_secs(1);
/// API tokens start with it, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "desk_";

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// A field's value is refused; `field` is the form's input name.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The same whether the username exists or not.
    #[error("Wrong username or password")]
    WrongCredentials,
    #[error("This account is disabled; ask a manager")]
    Disabled,
    #[error("Too many failed sign-ins for this username; try again in {0} minutes")]
    Throttled(u64),
    #[error("Only a manager may manage accounts and API tokens")]
    Forbidden,
    #[error("The desk has its first manager already; sign in instead")]
    AlreadySetUp,
    #[error("Username {0} is taken")]
    Taken(Username),
    #[error("There is no account {0}")]
    NoAccount(Username),
    #[error("There is no live API token {0}")]
    NoToken(i64),
    #[error("You cannot disable or demote your own account")]
    OwnAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StaffError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A new session's token, for the cookie: the database keeps its digest only.
pub struct SessionToken(pub String);

#[derive(Clone)]
pub struct Staff {
    store: Arc<dyn AccountStore>,
    /// A session unused this long has ended.
    idle: Duration,
    throttle: Arc<Throttle>,
    live_tokens: Arc<LiveTokens>,
    /// Turns at argon2: as many at once as there are cores.
    hashing: Arc<Semaphore>,
    /// Once the desk has an account it always has: no more queries to ask.
    set_up: Arc<AtomicBool>,
}

impl Staff {
    pub fn new(store: Arc<dyn AccountStore>, idle: Duration) -> Self {
        Self {
            store,
            idle,
            throttle: Arc::default(),
            live_tokens: Arc::default(),
            hashing: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
            set_up: Arc::default(),
        }
    }

    /// Whether the desk still waits for its first manager.
    pub async fn needs_setup(&self) -> Result<bool, StoreError> {
        if self.set_up.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let empty = self.store.count_accounts().await? == 0;
        if !empty {
            self.set_up.store(true, Ordering::Relaxed);
        }
        Ok(empty)
    }

    /// Makes the first manager and signs them in, on a desk without accounts.
    pub async fn set_up(&self, username: &str, password: &str) -> Result<SessionToken, StaffError> {
        let username = parse_username(username)?;
        check_password(password)?;
        let id = self
            .store
            .insert_first_manager(&username, &self.hash(password).await?, now())
            .await?
            .ok_or(StaffError::AlreadySetUp)?;
        self.set_up.store(true, Ordering::Relaxed);
        tracing::info!(%username, "first manager set up");
        self.start_session(id).await
    }

    /// Checks a username and password and starts a session. A username is locked for
    /// a while after [`MAX_FAILED_SIGN_INS`] attempts that did not succeed, whether it
    /// exists or not; the attempt counts before the (slow) check, so a burst of
    /// parallel guesses gets no further.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> Result<SessionToken, StaffError> {
        // A name no account can have: refused at once, and nothing to count.
        let Ok(username) = Username::parse(username) else {
            return Err(StaffError::WrongCredentials);
        };
        if let Err(wait) = self.throttle.attempt(username.as_str()) {
            return Err(StaffError::Throttled(wait.as_secs().div_ceil(60)));
        }
        let credentials = self.store.credentials(&username).await?;
        let hash = credentials.as_ref().map(|c| c.password_hash.clone());
        let matches = password.len() <= MAX_PASSWORD_LEN && self.verify(password, hash).await;
        match credentials {
            Some(credentials) if matches => {
                if !credentials.active {
                    return Err(StaffError::Disabled);
                }
                self.throttle.forget(username.as_str());
                self.start_session(credentials.account_id).await
            }
            _ => Err(StaffError::WrongCredentials),
        }
    }

    /// The account of a live session, which lives on for another idle spell.
    pub async fn session(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let digest = token_digest(token);
        let now = now();
        let Some(session) = self.store.session(&digest, now).await? else {
            return Ok(None);
        };
        let renewed = now + self.idle_secs();
        // Written at most once a minute, not on every request.
        if renewed - session.expires_at >= 60 {
            self.store.extend_session(&digest, renewed).await?;
        }
        Ok(Some(Actor {
            name: session.username.to_string(),
            role: session.role,
        }))
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), StoreError> {
        self.store.delete_session(&token_digest(token)).await
    }

    pub async fn create_account(
        &self,
        by: &Actor,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<Username, StaffError> {
        allowed(by)?;
        let username = parse_username(username)?;
        check_password(password)?;
        match self
            .store
            .insert_account(&username, &self.hash(password).await?, role, now())
            .await
        {
            Ok(_) => {
                self.set_up.store(true, Ordering::Relaxed);
                tracing::info!(%username, %role, by = by.name, "account created");
                Ok(username)
            }
            Err(StoreError::Conflict(_)) => Err(StaffError::Taken(username)),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn accounts(&self, by: &Actor) -> Result<Vec<AccountRecord>, StaffError> {
        allowed(by)?;
        Ok(self.store.accounts().await?)
    }

    pub async fn set_role(&self, by: &Actor, username: &str, role: Role) -> Result<(), StaffError> {
        let username = self.other_account(by, username)?;
        if !self.store.set_role(&username, role).await? {
            return Err(StaffError::NoAccount(username));
        }
        tracing::info!(%username, %role, by = by.name, "role changed");
        Ok(())
    }

    /// Disables an account, ending its sessions at once, or enables it again.
    pub async fn set_active(
        &self,
        by: &Actor,
        username: &str,
        active: bool,
    ) -> Result<(), StaffError> {
        let username = self.other_account(by, username)?;
        let disabled_at = (!active).then(now);
        if !self.store.set_disabled(&username, disabled_at).await? {
            return Err(StaffError::NoAccount(username));
        }
        tracing::info!(%username, active, by = by.name, "account access changed");
        Ok(())
    }

    /// Makes an API token and answers it: this is the only time it is seen.
    pub async fn create_token(
        &self,
        by: &Actor,
        name: &str,
        role: Role,
    ) -> Result<String, StaffError> {
        allowed(by)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(StaffError::invalid("name", "Name must not be empty"));
        }
        if name.chars().count() > MAX_TOKEN_NAME_LEN || name.chars().any(char::is_control) {
            return Err(StaffError::invalid(
                "name",
                format!("Name must be at most {MAX_TOKEN_NAME_LEN} printable characters"),
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", new_token());
        self.store
            .insert_token(name, &token_digest(&token), role, &by.name, now())
            .await?;
        tracing::info!(name, %role, by = by.name, "API token created");
        Ok(token)
    }

    pub async fn tokens(&self, by: &Actor) -> Result<Vec<TokenRecord>, StaffError> {
        allowed(by)?;
        Ok(self.store.tokens().await?)
    }

    /// Revokes a token: the next request that sends it is refused.
    pub async fn revoke_token(&self, by: &Actor, id: i64) -> Result<(), StaffError> {
        allowed(by)?;
        if !self.store.revoke_token(id, now()).await? {
            return Err(StaffError::NoToken(id));
        }
        self.live_tokens.clear();
        tracing::info!(id, by = by.name, "API token revoked");
        Ok(())
    }

    /// Whom an API token acts for: `token:<name>`, with the token's role. A token
    /// found live is trusted for [`TOKEN_RECHECK`] before the database is asked again:
    /// machines send one with every request, and that query would cost more than most
    /// of the work they ask for.
    pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let digest = token_digest(token);
        let look_up = async {
            let found = self.store.token(&digest).await?;
            Ok(found.map(|(name, role)| Actor {
                name: format!("token:{name}"),
                role,
            }))
        };
        self.live_tokens.find(&digest, look_up).await
    }

    /// Whether `password` matches `hash` (or, for an unknown username, a decoy that
    /// takes as long). Argon2 runs off the async workers, a few at a time, so that
    /// guessing cannot stall the server.
    async fn verify(&self, password: &str, hash: Option<String>) -> bool {
        let Ok(_turn) = self.hashing.acquire().await else {
            return false;
        };
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let hash = match &hash {
                Some(hash) => hash.as_str(),
                None => decoy_hash(),
            };
            verify_password(&password, hash)
        })
        .await
        .unwrap_or(false)
    }

    async fn hash(&self, password: &str) -> Result<String, StaffError> {
        let _turn = self
            .hashing
            .acquire()
            .await
            .map_err(|e| StaffError::Store(StoreError::Backend(Box::new(e))))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StaffError::Store(StoreError::Backend(Box::new(e))))
    }

    async fn start_session(&self, account_id: i64) -> Result<SessionToken, StaffError> {
        let token = new_token();
        let now = now();
        self.store
            .insert_session(
                &token_digest(&token),
                account_id,
                now,
                now + self.idle_secs(),
            )
            .await?;
        Ok(SessionToken(token))
    }

    fn other_account(&self, by: &Actor, username: &str) -> Result<Username, StaffError> {
        allowed(by)?;
        let username = parse_username(username)?;
        if username.as_str() == by.name {
            return Err(StaffError::OwnAccount);
        }
        Ok(username)
    }

    fn idle_secs(&self) -> i64 {
        i64::try_from(self.idle.as_secs()).unwrap_or(i64::MAX / 2)
    }
}

fn allowed(by: &Actor) -> Result<(), StaffError> {
    if by.may(Permission::ManageAccounts) {
        Ok(())
    } else {
        Err(StaffError::Forbidden)
    }
}

fn parse_username(raw: &str) -> Result<Username, StaffError> {
    Username::parse(raw)
        .map_err(|problem| StaffError::invalid("username", format!("Username {problem}")))
}

fn check_password(password: &str) -> Result<(), StaffError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        Err(StaffError::invalid(
            "password",
            format!("Password must be at least {MIN_PASSWORD_LEN} characters"),
        ))
    } else if length > MAX_PASSWORD_LEN {
        Err(StaffError::invalid(
            "password",
            format!("Password must be at most {MAX_PASSWORD_LEN} characters"),
        ))
    } else {
        Ok(())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// API tokens found live lately, by digest, with when they were found so.
#[derive(Default)]
struct LiveTokens {
    found: Mutex<HashMap<String, (Actor, Instant)>>,
    /// Turns at asking the database, a token's always the same one of them. A machine
    /// keeps dozens of requests in flight with one token: when it goes stale they all
    /// find it so at once, and without the turn each asked the database, queuing for
    /// its connections ahead of the writes.
    lookups: [tokio::sync::Mutex<()>; LOOKUP_TURNS],
}

/// Lookups of different tokens run side by side, up to this many.
const LOOKUP_TURNS: usize = 16;

/// Far more live tokens than a desk hands out; past it the memory starts afresh.
const LIVE_TOKENS_CAPACITY: usize = 10_000;

impl LiveTokens {
    /// Whom the token with `digest` acts for: as found live within
    /// [`TOKEN_RECHECK`], or else as `look_up` finds it now. Callers that find it
    /// stale together wait for the first one's lookup and take its answer.
    async fn find(
        &self,
        digest: &str,
        look_up: impl Future<Output = Result<Option<Actor>, StoreError>>,
    ) -> Result<Option<Actor>, StoreError> {
        if let Some(actor) = self.get(digest) {
            return Ok(Some(actor));
        }
        let _turn = self.lookups[lookup_turn(digest)].lock().await;
        if let Some(actor) = self.get(digest) {
            return Ok(Some(actor));
        }
        let actor = look_up.await?;
        if let Some(actor) = &actor {
            self.put(digest.to_owned(), actor.clone());
        }
        Ok(actor)
    }

    fn get(&self, digest: &str) -> Option<Actor> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        found
            .get(digest)
            .filter(|(_, when)| when.elapsed() < TOKEN_RECHECK)
            .map(|(actor, _)| actor.clone())
    }

    fn put(&self, digest: String, actor: Actor) {
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if found.len() >= LIVE_TOKENS_CAPACITY {
            found.clear();
        }
        found.insert(digest, (actor, Instant::now()));
    }

    fn clear(&self) {
        self.found.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Which of the lookup turns a token's digest takes: always the same one, since
/// `DefaultHasher::new` has the same keys everywhere in the process.
fn lookup_turn(digest: &str) -> usize {
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(digest);
    (hash % LOOKUP_TURNS as u64) as usize
}

/// Sign-in attempts per username, in this process: enough to make guessing slow.
#[derive(Default)]
struct Throttle {
    attempts: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Past this many usernames tracked, those whose lockout is over are let go, and then
/// the one tried longest ago.
const THROTTLE_CAPACITY: usize = 10_000;

impl Throttle {
    /// Counts an attempt for `key`, unless it is locked: then how long it still is.
    fn attempt(&self, key: &str) -> Result<(), Duration> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() >= THROTTLE_CAPACITY && !attempts.contains_key(key) {
            attempts.retain(|_, (_, last)| last.elapsed() < LOCKOUT);
            let oldest = attempts
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest.filter(|_| attempts.len() >= THROTTLE_CAPACITY) {
                attempts.remove(&oldest);
            }
        }
        let (count, last) = attempts
            .entry(key.to_owned())
            .or_insert((0, Instant::now()));
        if last.elapsed() >= LOCKOUT {
            *count = 0;
        }
        if *count >= MAX_FAILED_SIGN_INS {
            return Err(LOCKOUT.saturating_sub(last.elapsed()));
        }
        *count += 1;
        *last = Instant::now();
        Ok(())
    }

    /// A successful sign-in: the count starts again.
    fn forget(&self, key: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_locked_after_repeated_attempts_until_one_succeeds() {
        let throttle = Throttle::default();
        for _ in 0..MAX_FAILED_SIGN_INS {
            assert_eq!(throttle.attempt("ada"), Ok(()));
        }
        assert!(throttle.attempt("ada").is_err_and(|wait| wait <= LOCKOUT));
        assert_eq!(throttle.attempt("bob"), Ok(()));
        throttle.forget("ada");
        assert_eq!(throttle.attempt("ada"), Ok(()));
    }

    #[tokio::test]
    async fn requests_that_find_a_token_stale_together_ask_the_database_once() {
        let live = Arc::new(LiveTokens::default());
        let lookups = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let shop = Actor {
            name: "token:shop".to_owned(),
            role: Role::Clerk,
        };
        let look_up = |found: Option<Actor>| {
            let lookups = lookups.clone();
            async move {
                lookups.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(found)
            }
        };
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (live, look_up) = (live.clone(), look_up(Some(shop.clone())));
            requests.spawn(async move { live.find("shop", look_up).await });
        }
        while let Some(answer) = requests.join_next().await {
            assert_eq!(answer.unwrap().unwrap(), Some(shop.clone()));
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1);

        // Another token is looked up for itself; an unknown one, every time it is shown.
        assert_eq!(live.find("other", look_up(None)).await.unwrap(), None);
        assert_eq!(live.find("other", look_up(None)).await.unwrap(), None);
        assert_eq!(lookups.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }
}
