//! `[execution_capabilities]`: the reference's section (`enabled`,
//! `default_unknown_capability`, `allow_advisory_grants`,
//! `fail_required_advisory`, `defaults`) plus ours: policies per plane and
//! per stage, and what an approval the config asks for covers.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::vocab::Plane;
use crate::vocab::capability::{Capability, GateScope, Policy};

/// Capability id (or alias) -> policy, as written.
pub type PolicyTable = BTreeMap<String, Policy>;

/// `[execution_capabilities]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionCapabilitiesConfig {
    /// `false`: no grants are compiled; stages run as their runners are configured.
    pub enabled: bool,
    /// Read for the reference's sake: a capability no level names is not
    /// in a node's grants, so there is nothing for it to decide.
    pub default_unknown_capability: Policy,
    /// Read for the reference's sake; advisory grants are always labelled as such.
    pub allow_advisory_grants: bool,
    /// `true`: a denial the node's runner cannot hold fails the compile.
    pub fail_required_advisory: bool,
    /// What one approval of a gate written here covers (ours).
    pub approval_scope: GateScope,
    /// `[execution_capabilities.defaults]`: every stage.
    pub defaults: PolicyTable,
    /// `[execution_capabilities.planes.<plane>]` (ours).
    pub planes: BTreeMap<Plane, PolicyTable>,
    /// `[execution_capabilities.stages.<node>]` (ours).
    pub stages: BTreeMap<String, PolicyTable>,
}

impl Default for ExecutionCapabilitiesConfig {
    fn default() -> ExecutionCapabilitiesConfig {
        ExecutionCapabilitiesConfig {
            enabled: true,
            default_unknown_capability: Policy::Deny,
            allow_advisory_grants: true,
            fail_required_advisory: false,
            approval_scope: GateScope::Stage,
            defaults: PolicyTable::new(),
            planes: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

impl ExecutionCapabilitiesConfig {
    /// Every table of policies with the dotted name it is written under.
    pub fn tables(&self) -> Vec<(String, &PolicyTable)> {
        let mut tables = vec![(
            "execution_capabilities.defaults".to_string(),
            &self.defaults,
        )];
        for (plane, table) in &self.planes {
            tables.push((format!("execution_capabilities.planes.{plane}"), table));
        }
        for (stage, table) in &self.stages {
            tables.push((format!("execution_capabilities.stages.{stage}"), table));
        }
        tables
    }

    /// Refuses an unknown capability id (with its line and the closest
    /// id) and an id written twice, as itself and as its alias, with two
    /// different policies.
    pub(super) fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        for (name, table) in self.tables() {
            let mut seen: BTreeMap<Capability, (&str, Policy)> = BTreeMap::new();
            for (key, policy) in table {
                let Some(capability) = Capability::parse(key) else {
                    return Err(unknown_capability(path, text, &name, key));
                };
                if let Some((first, earlier)) = seen.insert(capability, (key, *policy))
                    && earlier != *policy
                {
                    let message = format!(
                        "`{name}`: `{first}` and `{key}` are the same capability with different policies"
                    );
                    return Err(invalid(path, text, key, message));
                }
            }
        }
        Ok(())
    }
}

fn unknown_capability(path: &Path, text: &str, table: &str, key: &str) -> ConfigError {
    let known: Vec<String> = Capability::ALL.iter().map(|c| c.to_string()).collect();
    let hint = super::unknown::closest(&known, key)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    let message = format!("unknown capability `{key}` in `{table}`{hint}");
    invalid(path, text, key, message)
}

fn invalid(path: &Path, text: &str, key: &str, message: String) -> ConfigError {
    let line = super::unknown::line_of_key(text, &format!("\"{key}\""))
        .or_else(|| super::unknown::line_of_key(text, key));
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    }
}
