//! Users and API tokens in the store.

use super::tables::{SESSIONS, SESSIONS_BY_USER, TOKENS, TOKENS_BY_HASH, USERS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::accounts::{ApiToken, Role, Session, User, Username};

macro_rules! account_reads {
    () => {
        /// The session whose secret hashes to `hash`.
        pub fn session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
            super::get_json(&self.table(SESSIONS)?, "sessions", hash)
        }

        /// Every user, by name. There are few; they are listed whole.
        pub fn users(&self) -> Result<Vec<User>, StoreError> {
            let table = self.table(USERS)?;
            let mut users = Vec::new();
            for entry in table.all()? {
                let (key, bytes) = entry?;
                users.push(decode("users", &key, &bytes)?);
            }
            Ok(users)
        }

        /// Every token, by name, revoked ones included.
        pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
            let table = self.table(TOKENS)?;
            let mut tokens = Vec::new();
            for entry in table.all()? {
                let (key, bytes) = entry?;
                tokens.push(decode("tokens", &key, &bytes)?);
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
    };
}

impl ReadTx {
    account_reads!();

    pub(super) fn check_token_index(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let by_hash = self.table(TOKENS_BY_HASH)?;
        for token in self.tokens()? {
            let indexed = by_hash.get(token.hash.as_str())?;
            if indexed.as_deref() != Some(token.name.as_str()) {
                problems.push(format!("token {} is not indexed by its hash", token.name));
            }
        }
        Ok(problems)
    }
}

impl WriteTx {
    account_reads!();

    pub fn put_session(&mut self, hash: &str, session: &Session) -> Result<(), StoreError> {
        self.writes += 1;
        self.bookkeeping_writes += 2;
        self.table(SESSIONS_BY_USER)?
            .insert((session.holder(), hash), ())?;
        self.put_json(SESSIONS, hash, session)
    }

    /// Ends one session; whether it existed.
    pub fn delete_session(&mut self, hash: &str) -> Result<bool, StoreError> {
        let Some(session) = self.session(hash)? else {
            return Ok(false);
        };
        self.writes += 1;
        self.bookkeeping_writes += 1;
        self.table(SESSIONS_BY_USER)?
            .remove((session.holder(), hash))?;
        self.table(SESSIONS)?.remove(hash)?;
        Ok(true)
    }

    /// Ends every session of `holder` (a username or a contact's login);
    /// how many there were.
    pub fn delete_sessions_of(&mut self, holder: &str) -> Result<usize, StoreError> {
        let hashes: Vec<String> = {
            let index = self.table(SESSIONS_BY_USER)?;
            let mut hashes = Vec::new();
            for entry in index.from((holder, ""))? {
                let ((owner, hash), ()) = entry?;
                if owner != holder {
                    break;
                }
                hashes.push(hash);
            }
            hashes
        };
        for hash in &hashes {
            self.delete_session(hash)?;
        }
        Ok(hashes.len())
    }

    /// Ends every session that `live` rejects; how many ended.
    pub fn sweep_sessions(
        &mut self,
        mut live: impl FnMut(&Session) -> bool,
    ) -> Result<usize, StoreError> {
        let dead: Vec<String> = {
            let table = self.table(SESSIONS)?;
            let mut dead = Vec::new();
            for entry in table.all()? {
                let (key, bytes) = entry?;
                let session: Session = decode("sessions", &key, &bytes)?;
                if !live(&session) {
                    dead.push(key);
                }
            }
            dead
        };
        for hash in &dead {
            self.delete_session(hash)?;
        }
        Ok(dead.len())
    }

    /// The tokens that act for `user`.
    pub fn tokens_of_user(&self, user: &Username) -> Result<Vec<ApiToken>, StoreError> {
        let table = self.table(TOKENS)?;
        let mut tokens = Vec::new();
        for entry in table.all()? {
            let (key, bytes) = entry?;
            let token: ApiToken = decode("tokens", &key, &bytes)?;
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
