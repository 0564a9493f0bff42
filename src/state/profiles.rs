//! Named profiles for several environments: a server, an organisation and headers each, in
//! `profiles.json` in the config folder (mode 0600, written atomically, changed only under a
//! lock); their tokens live in the credential store. Selected by `--profile`, then
//! `EPILOT_PROFILE`, then the active one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{did_you_mean, Error, Result};
use crate::state::paths::Places;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Sent with every request, as `Key: Value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Fields a newer epilot (or a person) wrote: kept as they are on rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Profile {
    /// The headers a request gets from this profile (the organisation as `x-epilot-org-id`).
    pub fn request_headers(&self) -> Vec<String> {
        let mut headers: Vec<String> = self.org_header().into_iter().collect();
        headers.extend(self.headers.iter().cloned());
        headers
    }

    /// The organisation as the header that carries it, if the profile has one.
    pub fn org_header(&self) -> Option<String> {
        self.org_id
            .as_ref()
            .map(|org| format!("x-epilot-org-id: {org}"))
    }

    /// Names what [`Profile::request_headers`] sends, never the values: for a note saying they
    /// were kept back.
    pub fn describe_headers(&self, name: &str) -> String {
        let headers = self.request_headers();
        let names: Vec<&str> = headers
            .iter()
            .map(|h| h.split_once(':').map_or(h.as_str(), |(n, _)| n).trim())
            .collect();
        format!("the headers of profile `{name}` ({})", names.join(", "))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Fields a newer epilot (or a person) wrote: kept as they are on rewrite. Being a map,
    /// it also makes serde refuse a file that is not a JSON object (`[]`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Profiles {
    fn file(places: &Places) -> std::path::PathBuf {
        places.config_dir.join("profiles.json")
    }

    /// The saved profiles; none when the file does not exist. A file that cannot be read or
    /// parsed is an error, never "no profiles", so that a later change cannot overwrite it.
    pub fn load(places: &Places) -> Result<Profiles> {
        let file = Profiles::file(places);
        let profiles: Profiles = crate::state::lock::read_json(&file)?.unwrap_or_default();
        profiles.check_names(&file)?;
        Ok(profiles)
    }

    /// A name written by hand that no `profile create` would accept (`../x`, control
    /// characters) is refused, not skipped: skipping would drop it on the next rewrite.
    fn check_names(&self, file: &std::path::Path) -> Result<()> {
        for name in self.profiles.keys().chain(self.active.iter()) {
            crate::state::paths::check_name("profile", name).map_err(|e| {
                Error::usage(format!("{} holds a bad profile name: {}", file.display(), e.message))
                    .with_help(format!(
                        "rename or remove that profile in {}; names use letters, digits, `-`, `_` and `.`",
                        file.display()
                    ))
            })?;
        }
        Ok(())
    }

    /// The only way to change the profiles: under an exclusive lock, loads them, applies
    /// `change` and saves the result if it differs, so parallel commands never lose each
    /// other's changes. Nothing is written when `change` fails.
    pub fn update<T>(
        places: &Places,
        change: impl FnOnce(&mut Profiles) -> Result<T>,
    ) -> Result<T> {
        crate::state::paths::create_private_dir(&places.config_dir)?;
        let _lock = crate::state::lock::exclusive(&Profiles::file(places))?;
        let before = Profiles::load(places)?;
        let mut profiles = before.clone();
        let outcome = change(&mut profiles)?;
        if profiles != before {
            let bytes = serde_json::to_vec_pretty(&profiles).expect("profiles serialise");
            crate::state::paths::write_atomically(&Profiles::file(places), &bytes, true)?;
        }
        Ok(outcome)
    }

    /// The profile in force: `--profile`, else `EPILOT_PROFILE`, else the active one.
    pub fn select<'a>(
        &'a self,
        flag: Option<&'a str>,
        env: Option<&'a str>,
    ) -> Result<Option<(&'a str, &'a Profile)>> {
        let Some(name) = flag
            .or(env.filter(|v| !v.is_empty()))
            .or(self.active.as_deref())
        else {
            return Ok(None);
        };
        self.get(name).map(Some)
    }

    pub fn get<'a>(&'a self, name: &'a str) -> Result<(&'a str, &'a Profile)> {
        self.profiles.get(name).map(|p| (name, p)).ok_or_else(|| {
            let hint = did_you_mean(name, self.profiles.keys().map(String::as_str))
                .map(|h| format!("{h} "))
                .unwrap_or_default();
            Error::usage(format!("there is no profile `{name}`")).with_help(format!(
                "{hint}create it with `epilot profile create {} --server URL`",
                crate::text::shell_quote(name)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> Profiles {
        let mut p = Profiles::default();
        p.profiles.insert(
            "dev".into(),
            Profile {
                server: Some("https://dev.example".into()),
                ..Profile::default()
            },
        );
        p.profiles.insert("prod".into(), Profile::default());
        p.active = Some("prod".into());
        p
    }

    #[test]
    fn selection_order_is_flag_then_environment_then_active() {
        let p = profiles();
        assert_eq!(
            p.select(Some("dev"), Some("prod")).unwrap().unwrap().0,
            "dev"
        );
        assert_eq!(p.select(None, Some("dev")).unwrap().unwrap().0, "dev");
        assert_eq!(p.select(None, None).unwrap().unwrap().0, "prod");
        assert_eq!(Profiles::default().select(None, None).unwrap(), None);
        assert!(p
            .select(Some("devv"), None)
            .unwrap_err()
            .help
            .unwrap()
            .contains("did you mean `dev`"));
    }

    #[test]
    fn org_id_becomes_a_header_before_the_profile_headers() {
        let profile = Profile {
            org_id: Some("123".into()),
            headers: vec!["X-A: 1".into()],
            ..Profile::default()
        };
        assert_eq!(
            profile.request_headers(),
            ["x-epilot-org-id: 123", "X-A: 1"]
        );
        assert_eq!(
            profile.describe_headers("dev"),
            "the headers of profile `dev` (x-epilot-org-id, X-A)"
        );
    }
}
