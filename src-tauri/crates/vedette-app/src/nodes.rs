//! Nodes and the new-node gate: enrolment tokens, an agent enrolling with
//! one (its node gets a credential of its own), the inventories it sends
//! scanned at once, and the gate deciding on the node's cloud instance when
//! its scan fails the gate policy: notify, stop or terminate it, only once
//! the gate is armed, every decision in the append-only action log.

use std::time::Duration;

use chrono::Utc;
use vedette_cloud::{AwsAccount, Ec2Action};
use vedette_model::{
    ActionOutcome, ActionRecord, CreatedEnrolToken, EnrolToken, Enrolled, Exposure, GateAction,
    GateSettings, Inventory, NodeFacts, NodeInfo, ScanState, StartedScan,
};

use crate::background::Lane;
use crate::tokens::{check_token_name, hash, new_secret};
use crate::{App, AppError, FeedSources, Policy, Result, ScanOptions};

/// What every enrolment token starts with.
pub const ENROL_PREFIX: &str = "vde_";
/// What every node credential starts with.
pub const NODE_PREFIX: &str = "vdn_";
/// An instance tagged so is never stopped or terminated.
pub const PROTECT_TAG: &str = "vedette:protect";

/// The gate's policy, in the data dir (the console's policy until written).
pub const GATE_POLICY_FILE: &str = "gate-policy.toml";

/// A node's target name: its host name and its instance (or machine) id.
fn node_name(f: &NodeFacts) -> String {
    match &f.instance {
        Some(i) => format!("{} ({})", f.hostname, i.instance_id),
        None => format!(
            "{} ({})",
            f.hostname,
            f.machine_id.chars().take(12).collect::<String>()
        ),
    }
}

/// The TCP ports listening beyond loopback (`0.0.0.0:443`, `[::]:22`,
/// `10.0.0.5:8080`; not `127.0.0.1:5432` or `[::1]:631`).
fn outward_ports(listening: &[String]) -> Vec<u16> {
    let mut ports: Vec<u16> = listening
        .iter()
        .filter_map(|s| {
            let (addr, port) = s.rsplit_once(':')?;
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            let ip: std::net::IpAddr = addr.parse().ok()?;
            (!ip.is_loopback()).then(|| port.parse().ok()).flatten()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Why a node with no succeeded scan fails the gate: none while it is
/// younger than `max_age` minutes (or no limit is set).
fn overdue(node: &NodeInfo, max_age: Option<u32>, now: chrono::DateTime<Utc>) -> Option<String> {
    let max_age = max_age?;
    let age = now - node.enrolled_at;
    (age >= chrono::Duration::minutes(i64::from(max_age))).then(|| {
        format!(
            "no verdict {} minutes after it enrolled (the gate policy's max_age_minutes_without_verdict is {max_age}): {}",
            age.num_minutes(),
            if node.last_seen_at > node.enrolled_at {
                "its agent is heard from, but no inventory of it could be judged"
            } else {
                "its agent has sent nothing since it enrolled"
            }
        )
    })
}

/// What an agent says is checked before anything is stored.
fn check_facts(f: &NodeFacts) -> Result<()> {
    let printable = |s: &str, max: usize| {
        !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control)
    };
    if !printable(&f.hostname, 253) {
        return Err(AppError::Invalid(
            "the node's hostname must be 1 to 253 printable characters".into(),
        ));
    }
    if !printable(&f.machine_id, 128) {
        return Err(AppError::Invalid(
            "the node's machine id must be 1 to 128 printable characters".into(),
        ));
    }
    if f.os.len() > 256 || f.os.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "the node's OS name must be at most 256 printable characters".into(),
        ));
    }
    if f.addresses.len() > 256 || f.listening.len() > 4096 {
        return Err(AppError::Invalid(
            "the node lists more addresses or listening sockets than a machine has".into(),
        ));
    }
    // An address, or an address and a port: `[ffff:…:ffff%interface]:65535`
    // fits in 64.
    if let Some(bad) = f
        .addresses
        .iter()
        .chain(&f.listening)
        .find(|a| !printable(a, 64))
    {
        return Err(AppError::Invalid(format!(
            "the node's addresses and sockets must be 1 to 64 printable characters, not {:?}",
            bad.chars().take(70).collect::<String>()
        )));
    }
    if let Some(i) = &f.instance {
        if !printable(&i.instance_id, 64) || i.provider != "aws" {
            return Err(AppError::Invalid(
                "the node's instance must be an AWS instance id (provider \"aws\")".into(),
            ));
        }
        let short = |s: &str| s.len() <= 64 && !s.chars().any(char::is_control);
        if !short(&i.region) || !short(&i.account) {
            return Err(AppError::Invalid(
                "the node's region and account must be at most 64 printable characters".into(),
            ));
        }
    }
    Ok(())
}

impl App {
    /// Creates an enrolment token; its secret is returned once.
    pub async fn create_enrol_token(
        &self,
        name: &str,
        expires: Duration,
        uses: u32,
        group: Option<&str>,
        exposure: Exposure,
    ) -> Result<CreatedEnrolToken> {
        let name = check_token_name(name)?;
        if uses == 0 {
            return Err(AppError::Invalid(
                "--uses must be at least 1 (how many nodes may enrol with it)".into(),
            ));
        }
        let expires = chrono::Duration::from_std(expires)
            .ok()
            .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(365))
            .ok_or_else(|| {
                AppError::Invalid("--expires must be above zero and at most a year".into())
            })?;
        let secret = new_secret(ENROL_PREFIX)?;
        let prefix: String = secret.chars().take(ENROL_PREFIX.len() + 6).collect();
        let group = group.map(str::trim).filter(|g| !g.is_empty());
        let token = self
            .store()
            .add_enrol_token(&vedette_store::NewEnrolToken {
                name,
                hash: &hash(&secret),
                prefix: &prefix,
                expires_at: Utc::now() + expires,
                max_uses: uses,
                group,
                exposure,
            })
            .await?;
        Ok(CreatedEnrolToken { token, secret })
    }

    /// Every enrolment token (never their secrets).
    pub async fn enrol_tokens(&self) -> Result<Vec<EnrolToken>> {
        Ok(self.store().enrol_tokens().await?)
    }

    /// Revokes an enrolment token by name or id.
    pub async fn revoke_enrol_token(&self, name_or_id: &str) -> Result<()> {
        if self.store().revoke_enrol_token(name_or_id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "no live enrolment token named '{name_or_id}'; `vedette agent token list` shows them"
            )))
        }
    }

    /// Refuses an enrolment token that cannot enrol a node now (before
    /// what the node says is read); logged.
    pub async fn check_enrol_token(&self, token: &str) -> Result<()> {
        match self.store().check_enrol_token(&hash(token)).await? {
            Ok(_) => Ok(()),
            Err(refusal) => {
                tracing::warn!("enrolment refused: {refusal}");
                Err(AppError::Unauthorized(format!(
                    "{refusal}; create a new one with `vedette agent token create`"
                )))
            }
        }
    }

    /// Enrols a node with an enrolment token: its credential (shown once).
    /// A refused token is logged with the node's name.
    pub async fn enrol(&self, token: &str, facts: &NodeFacts) -> Result<Enrolled> {
        check_facts(facts)?;
        let credential = new_secret(NODE_PREFIX)?;
        match self
            .store()
            .enrol_node(&hash(token), &node_name(facts), facts, &hash(&credential))
            .await?
        {
            Ok((node, new)) => {
                tracing::info!(
                    node = %node_name(facts),
                    "{} with the enrolment token",
                    if new { "enrolled" } else { "enrolled again" }
                );
                Ok(Enrolled {
                    target_id: node.target_id,
                    credential,
                })
            }
            Err(refusal) => {
                tracing::warn!(node = %node_name(facts), "enrolment refused: {refusal}");
                Err(AppError::Unauthorized(format!(
                    "{refusal}; create a new one with `vedette agent token create`"
                )))
            }
        }
    }

    /// The node a credential belongs to; refused when it is not known or
    /// was revoked.
    pub async fn node_of_credential(&self, credential: &str) -> Result<NodeInfo> {
        match self.store().node_by_credential(&hash(credential)).await? {
            None => Err(AppError::Unauthorized(
                "this node credential is not known; enrol the node again with an enrolment token"
                    .into(),
            )),
            Some(n) if n.revoked_at.is_some() => {
                tracing::warn!(node = n.target_id, "a revoked node credential was used");
                Err(AppError::Unauthorized(
                    "this node's credential was revoked: the node is lost; enrol it again with a new enrolment token"
                        .into(),
                ))
            }
            Some(n) => {
                self.store().touch_node(n.target_id).await?;
                Ok(n)
            }
        }
    }

    pub async fn nodes(&self) -> Result<Vec<NodeInfo>> {
        Ok(self.store().nodes().await?)
    }

    /// Revokes a node's credential: it is refused from then on.
    pub async fn revoke_node(&self, target_id: i64) -> Result<()> {
        if self.store().revoke_node(target_id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "there is no node {target_id} with a live credential; `vedette node list` shows them"
            )))
        }
    }

    /// Scans the inventory a node's agent sent, at once and judged by the
    /// gate policy; when the scan ends, the gate decides on the node.
    /// Unless the user set the node's exposure, it is inferred first.
    pub async fn node_inventory(
        &self,
        node: &NodeInfo,
        inventory: Inventory,
        sources: &FeedSources,
    ) -> Result<StartedScan> {
        let exposure = if node.exposure_pinned {
            None
        } else {
            // Inference raises the exposure the token gave, never lowers it.
            match self.infer_exposure(node).await {
                Some((Exposure::Internet, why)) => {
                    if node.exposure != Exposure::Internet {
                        tracing::info!(node = %node.name, "internet-facing: {why}");
                    }
                    Some(Exposure::Internet)
                }
                _ => None,
            }
        };
        Ok(self.judge_node(node, inventory, exposure, sources).await?.0)
    }

    /// Scans a node's inventory in the join lane, then lets the gate
    /// decide; the receiver resolves once it has.
    async fn judge_node(
        &self,
        node: &NodeInfo,
        inventory: Inventory,
        exposure: Option<Exposure>,
        sources: &FeedSources,
    ) -> Result<(StartedScan, tokio::sync::oneshot::Receiver<()>)> {
        let target = self.target(node.target_id).await?;
        let opts = ScanOptions {
            policy: self.gate_policy()?,
            inventory: Some(inventory),
            exposure,
            ..ScanOptions::default()
        };
        let (started, done) = self.start_in(Lane::Join, target, sources, opts).await?;
        let (app, node, scan_id) = (self.clone(), node.clone(), started.scan_id);
        let (decided_tx, decided) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            // The scan ended (or its task was dropped): decide either way.
            let _ = done.await;
            if let Err(e) = app.gate_decide(&node, scan_id).await {
                tracing::error!(node = node.target_id, "the gate could not decide: {e}");
            }
            // No one may be waiting.
            let _ = decided_tx.send(());
        });
        Ok((started, decided))
    }

    /// Sets a target's exposure as the user chose it (inference leaves it
    /// from then on) and judges its newest inventory again at once, so its
    /// findings are re-scored with the cause "exposure change" (a node's
    /// by the gate): the scan, and a receiver that resolves when it (and
    /// for a node, the gate) is done. None when the target has no
    /// inventory yet, or the exposure was already that and set by the user.
    pub async fn set_target_exposure(
        &self,
        target_id: i64,
        exposure: Exposure,
        sources: &FeedSources,
    ) -> Result<Option<(StartedScan, tokio::sync::oneshot::Receiver<()>)>> {
        let target = self.target(target_id).await?;
        let unchanged =
            target.exposure == exposure && self.store().target_exposure_pinned(target_id).await?;
        self.store()
            .pin_target_exposure(target_id, exposure)
            .await?;
        if unchanged {
            return Ok(None);
        }
        let Some(inventory) = self.store().latest_inventory(target_id).await? else {
            return Ok(None);
        };
        if let Some(node) = self.store().node(target_id).await? {
            return self
                .judge_node(&node, inventory, Some(exposure), sources)
                .await
                .map(Some);
        }
        let opts = ScanOptions {
            inventory: Some(inventory),
            exposure: Some(exposure),
            ..ScanOptions::default()
        };
        Ok(Some(self.start_one(target, sources, opts).await?))
    }

    /// A node's exposure from what listens on it and what its security
    /// groups open to the whole internet: internet-facing when a port that
    /// listens beyond loopback is open to `0.0.0.0/0` (or `::/0`); internal
    /// when nothing listens beyond loopback, or nothing that listens is open
    /// to the world. None (the node keeps its exposure) when the groups
    /// cannot be read. With why.
    async fn infer_exposure(&self, node: &NodeInfo) -> Option<(Exposure, String)> {
        let ports = outward_ports(&node.facts.listening);
        if ports.is_empty() {
            return Some((Exposure::Internal, "nothing listens beyond loopback".into()));
        }
        let instance = node.facts.instance.as_ref()?;
        let account = self.credentials().aws_account().await.ok()??;
        let open = match vedette_cloud::Ec2::new(account)
            .open_to_world(&instance.instance_id)
            .await
        {
            Ok(o) => o,
            Err(e) => {
                tracing::info!(
                    instance = %instance.instance_id,
                    "its security groups cannot be read, its exposure stays as it is: {e}"
                );
                return None;
            }
        };
        let reachable = ports.iter().find(|p| {
            open.iter()
                .any(|(proto, from, to)| (proto == "-1" || proto == "tcp") && from <= p && *p <= to)
        });
        Some(match reachable {
            Some(p) => (
                Exposure::Internet,
                format!("port {p} listens and its security groups open it to 0.0.0.0/0"),
            ),
            None => (
                Exposure::Internal,
                "no listening port is open to the internet in its security groups".into(),
            ),
        })
    }

    pub fn gate_policy_file(&self) -> std::path::PathBuf {
        self.data_dir().join(GATE_POLICY_FILE)
    }

    /// The gate's policy: its own file, else the console's policy.
    pub fn gate_policy(&self) -> Result<Policy> {
        let path = self.gate_policy_file();
        if path.exists() {
            crate::policy::read_policy(&path)
        } else {
            self.console_policy()
        }
    }

    /// Replaces the gate's policy with `text` (TOML, as a CI gate's), once
    /// it reads.
    pub fn set_gate_policy(&self, text: &str) -> Result<Policy> {
        let p = crate::policy::validate_policy(text)?;
        let path = self.gate_policy_file();
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, p.to_toml())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| AppError::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(p)
    }

    pub async fn gate(&self) -> Result<GateSettings> {
        Ok(self.store().gate_settings().await?)
    }

    /// Sets what the gate does; a changed action is disarmed.
    pub async fn set_gate_action(&self, action: GateAction) -> Result<GateSettings> {
        let mut s = self.gate().await?;
        if s.action != action {
            s = GateSettings {
                action,
                armed_by: None,
                armed_at: None,
                ..s
            };
            self.store().set_gate(&s).await?;
        }
        Ok(s)
    }

    /// At most `cap` stops or terminations an hour (0: the gate never acts).
    pub async fn set_gate_cap(&self, cap: u32) -> Result<GateSettings> {
        let s = GateSettings {
            cap_per_hour: cap,
            ..self.gate().await?
        };
        self.store().set_gate(&s).await?;
        Ok(s)
    }

    /// The nodes the gate would act on now, and why: each live node whose
    /// newest judged scan fails the gate policy or gives no verdict, and
    /// each with no scan past the policy's `max_age_minutes_without_verdict`.
    pub async fn gate_dry_run(&self) -> Result<Vec<vedette_model::GateCandidate>> {
        let settings = self.gate().await?;
        let max_age = self.gate_policy()?.max_age_minutes_without_verdict;
        let mut out = Vec::new();
        for node in self.nodes().await? {
            if node.revoked_at.is_some() {
                continue;
            }
            let (scan_id, reason) = match node.scan_id {
                Some(scan_id) => match self.gate_reason(scan_id).await? {
                    Some(reason) => (Some(scan_id), reason),
                    None => continue,
                },
                None => match overdue(&node, max_age, Utc::now()) {
                    Some(reason) => (None, reason),
                    None => continue,
                },
            };
            out.push(vedette_model::GateCandidate {
                target_id: node.target_id,
                instance_id: node.facts.instance.as_ref().map(|i| i.instance_id.clone()),
                node: node.name,
                scan_id,
                reason,
                action: settings.action,
            });
        }
        Ok(out)
    }

    /// The gate on the nodes that have had no verdict for longer than the
    /// gate policy's `max_age_minutes_without_verdict` (each once): `vedette
    /// serve` calls it every few seconds. How many it judged.
    pub async fn gate_sweep(&self) -> Result<usize> {
        let Some(max_age) = self.gate_policy()?.max_age_minutes_without_verdict else {
            return Ok(0);
        };
        let now = Utc::now();
        let mut judged = 0;
        for node in self.nodes().await? {
            if node.revoked_at.is_some() || node.overdue_at.is_some() || node.scan_id.is_some() {
                continue;
            }
            let Some(reason) = overdue(&node, Some(max_age), now) else {
                continue;
            };
            // Another sweep (or process) may have judged it meanwhile.
            if self.store().mark_node_overdue(node.target_id).await? {
                self.gate_act(&node, reason, None).await?;
                judged += 1;
            }
        }
        Ok(judged)
    }

    /// Runs [`App::gate_sweep`] every `every` until `stop` says so.
    pub async fn watch_gate(&self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.gate_sweep().await {
                tracing::error!("the gate could not look for nodes without a verdict: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = stop.changed() => if r.is_err() || *stop.borrow() { return },
            }
        }
    }

    /// Why a scan fails the gate (its policy's failures, or no verdict);
    /// none when it passed, was cancelled, or has no report.
    async fn gate_reason(&self, scan_id: i64) -> Result<Option<String>> {
        let summary = self.store().scan_summary(scan_id).await?;
        Ok(match summary.as_ref().map(|s| s.state) {
            Some(ScanState::Succeeded) => {
                let Some(report) = self.store().scan_report(scan_id).await? else {
                    return Ok(None);
                };
                let v = &report.verdict;
                match &v.none {
                    Some(none) => Some(none.clone()),
                    None if v.pass => None,
                    None => Some(format!("the gate policy failed: {}", v.failures.join("; "))),
                }
            }
            // Cancelled (the console is stopping): the node is judged at its
            // next inventory.
            Some(ScanState::Cancelled) | None => None,
            Some(_) => Some(format!(
                "no verdict: the scan failed ({})",
                summary
                    .and_then(|s| s.error)
                    .unwrap_or_else(|| "no reason recorded".into())
            )),
        })
    }

    /// Arms the gate's destructive action: `confirm` must be its name.
    pub async fn arm_gate(&self, confirm: &str, who: &str) -> Result<GateSettings> {
        let mut s = self.gate().await?;
        if !s.action.destructive() {
            return Err(AppError::Invalid(
                "the gate only notifies: there is nothing to arm (set --action stop or terminate first)"
                    .into(),
            ));
        }
        if confirm != s.action.as_str() {
            return Err(AppError::Invalid(format!(
                "type the action's name to arm it: --confirm {}",
                s.action.as_str()
            )));
        }
        s.armed_by = Some(who.to_owned());
        s.armed_at = Some(Utc::now());
        self.store().set_gate(&s).await?;
        Ok(s)
    }

    pub async fn disarm_gate(&self) -> Result<GateSettings> {
        let mut s = self.gate().await?;
        s.armed_by = None;
        s.armed_at = None;
        self.store().set_gate(&s).await?;
        Ok(s)
    }

    /// The action log, newest first.
    pub async fn gate_log(&self, limit: i64) -> Result<Vec<ActionRecord>> {
        Ok(self.store().gate_actions(limit).await?)
    }

    /// Stores the AWS account the gate acts with, in the keyring.
    pub async fn set_aws_account(
        &self,
        account: AwsAccount,
    ) -> Result<vedette_model::CredentialInfo> {
        Ok(self.credentials().set_aws(account).await?)
    }

    /// Stores the account of an AWS CLI profile (`~/.aws/credentials` and
    /// `~/.aws/config` under `home`, or the files the AWS CLI's variables
    /// name) in the keyring; `region` and `endpoint` override the
    /// profile's.
    pub async fn import_aws_profile(
        &self,
        home: &std::path::Path,
        profile: &str,
        region: Option<String>,
        endpoint: Option<String>,
    ) -> Result<vedette_model::CredentialInfo> {
        let (credentials, config) = vedette_cloud::default_files(home);
        let mut account =
            vedette_cloud::account_from_files(&credentials, &config, profile, region.as_deref())
                .map_err(AppError::invalid)?;
        if let Some(r) = region {
            account.region = r;
        }
        if endpoint.is_some() {
            account.endpoint = endpoint;
        }
        self.set_aws_account(account).await
    }

    /// Who the gate's AWS calls are made as (the user's, or the assumed
    /// role's ARN): proof that the stored account works.
    pub async fn check_aws_account(&self) -> Result<String> {
        let account = self.credentials().aws_account().await?.ok_or_else(|| {
            AppError::NotFound(
                "no AWS account is stored: `vedette cloud aws set` or `vedette cloud aws import`"
                    .into(),
            )
        })?;
        vedette_cloud::Ec2::new(account)
            .caller()
            .await
            .map_err(|e| AppError::unavailable(format!("the AWS account does not work: {e}")))
    }

    /// Acts on an instance unless the hourly cap is reached or the instance
    /// is protected (`vedette:protect=true`; an instance whose tags cannot
    /// be read is not acted on): the outcome and what to record.
    async fn act_safely(
        &self,
        account: AwsAccount,
        action: Ec2Action,
        instance: &str,
        settings: &GateSettings,
    ) -> Result<(ActionOutcome, String)> {
        let hour_ago = Utc::now() - chrono::Duration::hours(1);
        let done = self.store().destructive_actions_since(hour_ago).await?;
        if done >= settings.cap_per_hour {
            return Ok((
                ActionOutcome::NotActed,
                format!(
                    "the cap of {} stops or terminations an hour is reached ({done} in the last hour): the gate only notifies until the hour passes (`vedette gate set --cap-per-hour`)",
                    settings.cap_per_hour
                ),
            ));
        }
        let ec2 = vedette_cloud::Ec2::new(account);
        match ec2.tags(instance).await {
            Ok(tags) if tags.iter().any(|(k, v)| k == PROTECT_TAG && v == "true") => {
                return Ok((
                    ActionOutcome::NotActed,
                    format!("the instance is tagged {PROTECT_TAG}=true: the gate never acts on it"),
                ))
            }
            Ok(_) => {}
            Err(e) => {
                return Ok((
                    ActionOutcome::Failed,
                    format!("the instance's tags cannot be read, so it is not acted on: {e}"),
                ))
            }
        }
        Ok(match ec2.act(action, instance).await {
            Ok(answer) => (ActionOutcome::Done, answer),
            Err(e) => (ActionOutcome::Failed, e.to_string()),
        })
    }

    /// After a node's scan: when it failed the gate policy (or gave no
    /// verdict), what the gate does about the node's instance, recorded.
    async fn gate_decide(&self, node: &NodeInfo, scan_id: i64) -> Result<()> {
        match self.gate_reason(scan_id).await? {
            Some(reason) => self.gate_act(node, reason, Some(scan_id)).await,
            None => Ok(()),
        }
    }

    /// What the gate does about a failing node's instance, recorded.
    async fn gate_act(&self, node: &NodeInfo, reason: String, scan_id: Option<i64>) -> Result<()> {
        let settings = self.gate().await?;
        let instance = node.facts.instance.as_ref().map(|i| i.instance_id.clone());
        let mut record = ActionRecord {
            id: 0,
            at: Utc::now(),
            node: node.name.clone(),
            instance_id: instance.clone(),
            action: settings.action,
            outcome: ActionOutcome::NotActed,
            reason,
            armed_by: settings.armed_by.clone(),
            scan_id,
            answer: None,
        };
        let ec2_action = match settings.action {
            GateAction::Notify => None,
            GateAction::Stop => Some(Ec2Action::Stop),
            GateAction::Terminate => Some(Ec2Action::Terminate),
        };
        match (ec2_action, &settings.armed_by, &instance) {
            (None, _, _) => record.answer = Some("the gate only notifies".into()),
            (Some(_), None, _) => {
                record.answer = Some(format!(
                    "the gate is not armed: it would {} the instance",
                    settings.action.as_str()
                ))
            }
            (Some(_), Some(_), None) => {
                record.answer = Some("the node named no cloud instance".into())
            }
            (Some(action), Some(_), Some(id)) => match self.credentials().aws_account().await {
                Ok(Some(account)) => {
                    let (outcome, answer) = self.act_safely(account, action, id, &settings).await?;
                    record.outcome = outcome;
                    record.answer = Some(answer);
                }
                Ok(None) => {
                    record.outcome = ActionOutcome::Failed;
                    record.answer = Some(
                        "no AWS account is stored: `vedette cloud aws set` (its secret goes to the keyring)"
                            .into(),
                    );
                }
                Err(e) => {
                    record.outcome = ActionOutcome::Failed;
                    record.answer = Some(format!("the AWS account cannot be read: {e}"));
                }
            },
        }
        if record.outcome != ActionOutcome::Done
            && settings.action.destructive()
            && settings.armed_by.is_some()
        {
            tracing::error!(
                node = %record.node,
                "ALERT: the gate did not {} the failing node's instance: {}",
                settings.action.as_str(),
                record.answer.as_deref().unwrap_or_default()
            );
        }
        tracing::warn!(
            node = %record.node,
            action = record.action.as_str(),
            outcome = record.outcome.as_str(),
            "gate: {}",
            record.reason
        );
        self.store().record_gate_action(&record).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::CloudInstance;

    fn facts() -> NodeFacts {
        NodeFacts {
            hostname: "web-1".into(),
            machine_id: "0123456789abcdef0123456789abcdef".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            addresses: vec!["10.0.0.5".into(), "fe80::1%eth0".into()],
            listening: vec!["0.0.0.0:22".into(), "[::1]:631".into()],
            instance: Some(CloudInstance {
                provider: "aws".into(),
                instance_id: "i-0abc".into(),
                region: "eu-west-1".into(),
                account: "123456789012".into(),
            }),
        }
    }

    #[test]
    fn an_agents_facts_are_bounded_field_by_field() {
        assert!(check_facts(&facts()).is_ok());
        let refused = |f: NodeFacts| match check_facts(&f) {
            Err(AppError::Invalid(m)) => m,
            other => panic!("accepted: {other:?}"),
        };
        let m = refused(NodeFacts {
            hostname: "a".repeat(254),
            ..facts()
        });
        assert!(m.contains("hostname"), "{m}");
        let m = refused(NodeFacts {
            hostname: "web\n1".into(),
            ..facts()
        });
        assert!(m.contains("hostname"), "{m}");
        let m = refused(NodeFacts {
            listening: vec!["x".repeat(10_000)],
            ..facts()
        });
        assert!(m.contains("addresses and sockets"), "{m}");
        assert!(m.len() < 300, "the error quotes the input whole: {m}");
        let m = refused(NodeFacts {
            addresses: vec!["10.0.0.1".into(); 257],
            ..facts()
        });
        assert!(m.contains("more addresses"), "{m}");
        let m = refused(NodeFacts {
            os: "x".repeat(257),
            ..facts()
        });
        assert!(m.contains("OS name"), "{m}");
        let mut f = facts();
        f.instance.as_mut().unwrap().region = "r".repeat(65);
        assert!(refused(f).contains("region"));
        let mut f = facts();
        f.instance.as_mut().unwrap().provider = "gcp".into();
        assert!(refused(f).contains("AWS"));
    }

    #[test]
    fn only_ports_listening_beyond_loopback_count() {
        let ports = outward_ports(&[
            "0.0.0.0:443".into(),
            "[::]:22".into(),
            "10.0.0.5:8080".into(),
            "127.0.0.1:5432".into(),
            "[::1]:631".into(),
            "0.0.0.0:443".into(),
            "garbage".into(),
        ]);
        assert_eq!(ports, [22, 443, 8080]);
    }

    #[test]
    fn a_node_without_a_scan_is_overdue_only_past_the_policys_limit() {
        let now = Utc::now();
        let node = |enrolled_minutes_ago: i64, heard: bool| NodeInfo {
            target_id: 1,
            facts: facts(),
            enrolled_at: now - chrono::Duration::minutes(enrolled_minutes_ago),
            last_seen_at: now
                - chrono::Duration::minutes(if heard { 0 } else { enrolled_minutes_ago }),
            revoked_at: None,
            name: "web-1 (i-0abc)".into(),
            exposure: Exposure::Internal,
            exposure_pinned: false,
            overdue_at: None,
            scan_id: None,
            verdict_pass: None,
        };
        assert_eq!(overdue(&node(60, false), None, now), None);
        assert_eq!(overdue(&node(14, false), Some(15), now), None);
        let why = overdue(&node(16, false), Some(15), now).unwrap();
        assert!(
            why.contains("no verdict 16 minutes after it enrolled"),
            "{why}"
        );
        assert!(why.contains("has sent nothing"), "{why}");
        let why = overdue(&node(16, true), Some(15), now).unwrap();
        assert!(why.contains("could be judged"), "{why}");
        assert_eq!(node(16, false).standing(), "waiting");
    }
}
