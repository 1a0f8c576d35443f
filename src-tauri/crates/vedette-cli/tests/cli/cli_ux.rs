//! The CLI as Trivy and Grype users expect it: completions and a man page
//! made from the flags, every scan flag also an environment variable, a
//! config file of defaults under the flags, a project's `.vedette.toml`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vedette_tests::registry::shared;

use crate::vulns::{command, out, Mirror};

#[test]
fn completions_for_three_shells_and_a_man_page_are_made_from_the_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let gen = |args: &[&str]| {
        let o = command(tmp.path(), &[], args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", out(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let bash = tmp.path().join("vedette.bash");
    std::fs::write(&bash, gen(&["completion", "bash"])).unwrap();
    // bash loads it and completes `vedette sc` to `scan` (and `schedule`).
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(vedette sc) COMP_CWORD=1 && _vedette vedette sc vedette && echo \"${{COMPREPLY[@]}}\"",
            bash.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && words.contains("scan") && words.contains("schedule"),
        "{words}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(gen(&["completion", "zsh"]).starts_with("#compdef vedette"));
    assert!(gen(&["completion", "fish"]).contains("complete -c vedette"));
    let man = gen(&["manpage"]);
    assert!(man.contains(".TH vedette"), "{man}");
    assert!(man.contains("scan") && man.contains("doctor"), "{man}");
}

/// The lang fixture's Python requirements (Jinja2 2.10 has advisories).
fn project(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("requirements.txt"), "Jinja2==2.10\n").unwrap();
    dir.display().to_string()
}

#[test]
fn a_config_file_sets_defaults_the_environment_and_flags_override() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = shared("fixtures/alpine-3.23");
    let fixture = fixture.to_str().unwrap();
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        "format = \"json\"\npackages-only = true\nquiet = true\n",
    )
    .unwrap();
    let env = |more: &[(&'static str, &str)]| {
        let mut e = vec![("VEDETTE_CONFIG", config.display().to_string())];
        e.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
        e
    };
    let scan = |env: &[(&'static str, String)], flags: &[&str]| {
        let mut args = vec!["scan", "dir", fixture];
        args.extend_from_slice(flags);
        let o = command(tmp.path(), env, &args).output().unwrap();
        assert!(o.status.success(), "{}", out(&o));
        o
    };

    // The file: JSON, packages only, no progress.
    let o = scan(&env(&[]), &[]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("the config's format: JSON");
    assert!(
        v["packages"].as_array().is_some_and(|p| !p.is_empty()),
        "{v}"
    );
    assert!(
        o.stderr.is_empty(),
        "quiet: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Its environment variable over the file; the flag over both.
    let o = scan(&env(&[("VEDETTE_FORMAT", "cyclonedx")]), &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bomFormat"], "CycloneDX");
    let o = scan(&env(&[("VEDETTE_FORMAT", "cyclonedx")]), &["-f", "spdx"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["spdxVersion"].is_string(), "{v}");
    // A boolean variable that says no turns the file's yes off.
    let o = scan(&env(&[("VEDETTE_QUIET", "false")]), &[]);
    assert!(!o.stderr.is_empty(), "progress shown again");

    // A setting Vedette does not know is named, with the file.
    std::fs::write(&config, "formt = \"json\"\n").unwrap();
    let o = command(tmp.path(), &env(&[]), &["scan", "dir", fixture])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("'formt' is not a setting") && out(&o).contains("config.toml"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("fail-on"),
        "the settings are listed: {}",
        out(&o)
    );
}

#[test]
fn a_vedette_toml_in_the_working_directory_is_the_policy_unless_another_is_given() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("app"));
    let scan = |cwd: &Path, extra: &[&str]| {
        let mut args = vec!["scan", "dir", dir.as_str()];
        args.extend_from_slice(extra);
        command(tmp.path(), &mirror.env(), &args)
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    // No policy: findings, but nothing fails.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let o = scan(&elsewhere, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // The project's policy, found in the working directory.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join(".vedette.toml"), "fail_on = \"low\"\n").unwrap();
    let o = scan(&work, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("using the policy in ./.vedette.toml"),
        "{}",
        out(&o)
    );

    // --policy names another, which wins.
    let lenient = tmp.path().join("lenient.toml");
    std::fs::write(&lenient, "fail_on = \"critical\"\nfixable_only = true\n").unwrap();
    let given = scan(&work, &["--policy", lenient.to_str().unwrap()]);
    assert!(
        !out(&given).contains("using the policy in"),
        "{}",
        out(&given)
    );
    let alone = scan(&elsewhere, &["--policy", lenient.to_str().unwrap()]);
    assert_eq!(
        given.status.code(),
        alone.status.code(),
        "the given policy alone decides: {}",
        out(&given)
    );
}

/// The SARIF results' ids and fingerprints.
fn sarif_results(doc: &Value) -> Vec<(String, String)> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["partialFingerprints"]["vedette/v2"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn one_scan_writes_several_formats_and_history_show_renders_the_stored_scan_again() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(&tmp.path().join("app"));
    let files = tmp.path().join("out");
    std::fs::create_dir_all(&files).unwrap();
    let o = command(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &dir,
            "-q",
            "-o",
            "sarif=r.sarif",
            "-o",
            "cyclonedx=bom.json",
            "-o",
            "cyclonedx-1.5=bom-1.5.json",
            "-o",
            "spdx=spdx.json",
            "-o",
            "report.txt",
        ],
    )
    .current_dir(&files)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(o.stdout.is_empty(), "every report went to its file");

    // Each file in its format, valid for its reference validator.
    crate::scan::validate("cyclonedx", &files.join("bom.json"));
    crate::scan::validate("cyclonedx-1.5", &files.join("bom-1.5.json"));
    crate::scan::validate("spdx", &files.join("spdx.json"));
    let validator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/oracles/validate-sarif.js");
    let v = Command::new("node")
        .arg(&validator)
        .arg(files.join("r.sarif"))
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "SARIF: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let bom = read_json(&files.join("bom.json"));
    let bom15 = read_json(&files.join("bom-1.5.json"));
    assert_eq!(
        (bom["specVersion"].as_str(), bom15["specVersion"].as_str()),
        (Some("1.6"), Some("1.5"))
    );
    assert!(
        bom["vulnerabilities"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{bom}"
    );
    assert_eq!(bom["vulnerabilities"], bom15["vulnerabilities"]);
    let table = std::fs::read_to_string(files.join("report.txt")).unwrap();
    assert!(
        table.contains("Jinja2"),
        "the --format (table) report: {table}"
    );

    // SARIF fingerprints say what and where, not which build: no digest.
    let sarif = read_json(&files.join("r.sarif"));
    let digest = sarif["runs"][0]["properties"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let results = sarif_results(&sarif);
    assert!(!results.is_empty());
    for (id, fp) in &results {
        assert!(
            fp.starts_with(&format!("{id}:pkg:pypi/")) && fp.to_lowercase().contains("jinja2@2.10"),
            "{fp}"
        );
        assert!(fp.ends_with(":requirements.txt"), "{fp}");
        assert!(!fp.contains(&digest), "{fp} holds the digest {digest}");
    }

    // The stored scan, rendered again: the same results and components.
    let history: Value = serde_json::from_slice(
        &command(tmp.path(), &[], &["history", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let id = history[0]["id"].as_i64().unwrap().to_string();
    let o = command(
        tmp.path(),
        &[],
        &["history", "show", &id, "--format", "sarif", "-o"],
    )
    .arg(files.join("again.sarif"))
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        sarif_results(&read_json(&files.join("again.sarif"))),
        results
    );
    let o = command(
        tmp.path(),
        &[],
        &["history", "show", &id, "-f", "cyclonedx"],
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let again: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["components"], bom["components"]);
    assert_eq!(again["vulnerabilities"], bom["vulnerabilities"]);
    // And the table names its formats one way: `text` is `table` here too.
    let o = command(tmp.path(), &[], &["history", "--format", "table"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
}

/// Progress on a terminal is a bar of the layers' bytes; in a log (piped),
/// plain lines; with -q, nothing.
#[test]
fn progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log() {
    use vedette_tests::registry::{oci_layout, Layer, Registry};
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    oci_layout(
        &layout,
        &[Layer::from_dir(shared("fixtures/alpine-3.23"))],
        "t",
    );
    reg.push(&layout, "bar/alpine", "t");
    let image = format!("127.0.0.1:{}/bar/alpine:t", reg.port());
    let args = [
        "scan",
        "image",
        &image,
        "--insecure-registry",
        "--packages-only",
        "-o",
        "/dev/null",
    ];

    // Piped: one line a stage and a layer.
    let o = command(&tmp.path().join("piped"), &[], &args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("vedette: layer 1 done"), "{log}");
    // -q: nothing.
    let mut quiet = args.to_vec();
    quiet.push("-q");
    let o = command(&tmp.path().join("quiet"), &[], &quiet)
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{}", out(&o));

    // On a terminal (a pseudo-terminal from util-linux's `script`): a bar.
    let data = tmp.path().join("tty");
    let line = format!(
        "{} --data-dir {} {}",
        env!("CARGO_BIN_EXE_vedette"),
        data.display(),
        args.join(" ")
    );
    let o = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VEDETTE_CONFIG", data.join("no-config.toml"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", tmp.path().display()),
        )
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{tty}");
    assert!(
        tty.contains("layer(s) pulled") || tty.contains("B/s"),
        "{tty}"
    );
    assert!(
        !tty.contains("vedette: layer 1 done"),
        "no log lines on a terminal: {tty}"
    );
}
