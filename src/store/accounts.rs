//! Users and API tokens in the store.

use redb::ReadableTable;

use super::tables::{TOKENS, TOKENS_BY_HASH, USERS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::accounts::{ApiToken, Role, User, Username};

impl ReadTx {
    /// Every user, by name. There are few; they are listed whole.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let table = self.table(USERS)?;
        let mut users = Vec::new();
        for entry in table.iter()? {
            let (key, bytes) = entry?;
            users.push(decode("users", key.value(), bytes.value())?);
        }
        Ok(users)
    }

    /// Every token, by name, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let table = self.table(TOKENS)?;
        let mut tokens = Vec::new();
        for entry in table.iter()? {
            let (key, bytes) = entry?;
            tokens.push(decode("tokens", key.value(), bytes.value())?);
        }
        Ok(tokens)
    }

    /// Whether an enabled owner exists.
    pub fn has_owner(&self) -> Result<bool, StoreError> {
        Ok(self
            .users()?
            .iter()
            .any(|u| u.role == Role::Owner && !u.disabled))
    }

    pub(super) fn check_token_index(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let by_hash = self.table(TOKENS_BY_HASH)?;
        for token in self.tokens()? {
            let indexed = by_hash.get(token.hash.as_str())?;
            if indexed.as_ref().map(redb::AccessGuard::value) != Some(token.name.as_str()) {
                problems.push(format!("token {} is not indexed by its hash", token.name));
            }
        }
        Ok(problems)
    }
}

impl WriteTx {
    /// The tokens that act for `user`.
    pub fn tokens_of_user(&self, user: &Username) -> Result<Vec<ApiToken>, StoreError> {
        let table = self.table(TOKENS)?;
        let mut tokens = Vec::new();
        for entry in table.iter()? {
            let (key, bytes) = entry?;
            let token: ApiToken = decode("tokens", key.value(), bytes.value())?;
            if token.user.as_ref() == Some(user) {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    pub fn put_user(&mut self, user: &User) -> Result<(), StoreError> {
        self.put_json(USERS, user.username.as_str(), user)
    }

    /// Stores `token`, replacing any earlier token of the same name (and its hash
    /// entry, so the old secret stops working).
    pub fn put_token(&mut self, token: &ApiToken) -> Result<(), StoreError> {
        let previous = self.token(&token.name)?;
        self.writes += 1;
        {
            let mut by_hash = self.table(TOKENS_BY_HASH)?;
            if let Some(old) = &previous {
                by_hash.remove(old.hash.as_str())?;
            }
            by_hash.insert(token.hash.as_str(), token.name.as_str())?;
        }
        self.put_json(TOKENS, token.name.as_str(), token)
    }
}
