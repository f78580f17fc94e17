//! Who may do what at the desk: staff roles, what each allows, and the acting account
//! every command is run for. Pure rules: the accounts themselves live in `service_layer`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::commands::Command;

/// What a request needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Pages, reports and the `GET`s.
    Read,
    /// Allocate and deallocate order lines.
    Allocate,
    /// Add batches and change their quantities.
    ManageStock,
    /// Add, disable and re-role accounts; create and revoke API tokens.
    ManageAccounts,
}

impl Permission {
    /// What it allows, completing "may not ...".
    pub fn action(self) -> &'static str {
        match self {
            Permission::Read => "see the desk",
            Permission::Allocate => "allocate or deallocate order lines",
            Permission::ManageStock => "add batches or change their quantities",
            Permission::ManageAccounts => "manage accounts or API tokens",
        }
    }
}

/// A staff role. Each includes everything the one before it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Clerk,
    Manager,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Clerk, Role::Manager];

    pub fn allows(self, permission: Permission) -> bool {
        let least = match permission {
            Permission::Read => Role::Viewer,
            Permission::Allocate => Role::Clerk,
            Permission::ManageStock | Permission::ManageAccounts => Role::Manager,
        };
        self >= least
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Clerk => "clerk",
            Role::Manager => "manager",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| UnknownRole(raw.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be viewer, clerk or manager, not {0:?}")]
pub struct UnknownRole(pub String);

impl Command {
    /// What running this command takes.
    pub fn permission(&self) -> Permission {
        match self {
            Command::Allocate(_) | Command::Deallocate(_) => Permission::Allocate,
            Command::CreateBatch(_) | Command::ChangeBatchQuantity(_) => Permission::ManageStock,
        }
    }
}

/// Longest username accepted.
pub const MAX_USERNAME_LEN: usize = 32;

/// A login name: lower-case letters, digits, `.`, `_` and `-`, so that two accounts
/// never differ only in case or in look-alike characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, InvalidUsername> {
        let name = raw.trim().to_lowercase();
        if name.is_empty() {
            Err(InvalidUsername::Empty)
        } else if name.chars().count() > MAX_USERNAME_LEN {
            Err(InvalidUsername::TooLong)
        } else if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            Err(InvalidUsername::Characters)
        } else {
            Ok(Self(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidUsername;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUsername {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_USERNAME_LEN} characters")]
    TooLong,
    #[error("may hold only letters, digits, '.', '_' and '-'")]
    Characters,
}

/// Who a command is run for: a signed-in account, an API token, or the desk itself
/// (messages from Redis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// What pages show as "by": a username, `token:<name>`, or `system`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// The desk's own work: messages other systems send over Redis, which carry no
    /// account.
    pub fn system() -> Self {
        Self {
            name: "system".to_owned(),
            role: Role::Manager,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_includes_the_one_below() {
        let allowed = |role: Role| {
            [
                Permission::Read,
                Permission::Allocate,
                Permission::ManageStock,
                Permission::ManageAccounts,
            ]
            .into_iter()
            .filter(|p| role.allows(*p))
            .count()
        };
        assert_eq!(allowed(Role::Viewer), 1);
        assert_eq!(allowed(Role::Clerk), 2);
        assert_eq!(allowed(Role::Manager), 4);
        assert!(!Role::Clerk.allows(Permission::ManageStock));
    }

    #[test]
    fn roles_read_in_any_case_and_nothing_else() {
        assert_eq!(Role::parse(" Clerk "), Ok(Role::Clerk));
        assert_eq!(Role::parse("admin"), Err(UnknownRole("admin".into())));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }

    #[test]
    fn usernames_are_lower_case_and_plain() {
        assert_eq!(Username::parse(" Ada.L ").unwrap().as_str(), "ada.l");
        assert_eq!(Username::parse(""), Err(InvalidUsername::Empty));
        assert_eq!(Username::parse("a b"), Err(InvalidUsername::Characters));
        assert_eq!(Username::parse("adа"), Err(InvalidUsername::Characters));
        assert_eq!(
            Username::parse(&"a".repeat(MAX_USERNAME_LEN + 1)),
            Err(InvalidUsername::TooLong)
        );
    }
}
