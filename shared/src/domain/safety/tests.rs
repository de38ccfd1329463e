//! The checker against each rule: it fires, it stays silent at the edge of its window, and it stays silent
//! for the exception its source names.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::rules::{RULES, RuleSet};
use super::*;

const TODAY: (i32, u32, u32) = (2026, 12, 3);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

/// A valid entry of `kind` holding `data`.
fn entry(kind: ChartKind, n: u8, data: Value) -> Entry {
    serde_json::from_value(json!({
        "id": format!("01JD00000000000000000001{n:02}"),
        "kind": kind,
        "patientId": "01JD0000000000000000000002",
        "version": 1,
        "data": data,
        "source": {"type": "staff-entered"},
        "recordedBy": {"userId": "practitioner-1", "role": "practitioner"},
        "recordedAt": "2026-11-01T10:00:00Z",
        "updatedBy": {"userId": "practitioner-1", "role": "practitioner"},
        "updatedAt": "2026-11-01T10:00:00Z",
    }))
    .expect("a chart entry")
}

fn allergy(substance: &str, reaction: &str, severity: &str) -> Entry {
    entry(
        ChartKind::Allergy,
        1,
        json!({"substance": substance, "reaction": reaction, "severity": severity, "status": "active"}),
    )
}

fn medication(name: &str, status: &str, stop: Option<&str>) -> Entry {
    let mut data = json!({"name": name, "status": status});
    if let Some(stop) = stop {
        data["stopDate"] = json!(stop);
    }
    entry(ChartKind::Medication, 2, data)
}

fn condition(code: &str) -> Entry {
    entry(ChartKind::Condition, 3, json!({"code": code, "status": "active"}))
}

fn profile(data: Value) -> Entry {
    entry(ChartKind::AestheticProfile, 4, data)
}

fn past_treatment(kind: &str, performed: &str) -> Entry {
    entry(ChartKind::Treatment, 5, json!({"type": kind, "performedAt": performed, "treatedAreas": ["glabella"]}))
}

fn treatment(kind: &str, products: &[&str], procedure: Option<&str>) -> Proposed<'static> {
    let rules: &'static RuleSet = &RULES;
    Proposed::Treatment {
        treatment_type: TreatmentType::parse_str(kind, &Context::timeless()).unwrap(),
        products: products.iter().map(|p| rules.product(p).unwrap_or_else(|| panic!("no product {p}"))).collect(),
        procedure: procedure.map(|p| rules.procedure(p).unwrap_or_else(|| panic!("no procedure {p}"))),
    }
}

fn medication_proposal(name: &str) -> Proposed<'static> {
    Proposed::Medication { classes: medication_classes(&RULES, name, None) }
}

/// The ids of the rules that fire.
fn fired(chart: &[Entry], proposed: &Proposed<'_>) -> Vec<String> {
    check(&RULES, &Chart::of(chart), proposed, today()).into_iter().map(|a| a.rule_id).collect()
}

fn fires(rule: &str, chart: &[Entry], proposed: &Proposed<'_>) -> bool {
    fired(chart, proposed).iter().any(|r| r == rule)
}

#[test]
fn the_shipped_rule_set_is_whole() {
    assert_eq!(RULES.problems(), Vec::<String>::new());
    assert!(RULES.rules.len() >= 25, "{} rules", RULES.rules.len());
}

#[test]
fn a_broken_rule_set_is_caught() {
    let broken: RuleSet = serde_json::from_value(json!({
        "version": "x", "review": "x",
        "sources": {"label": {"title": "A label", "publisher": "Someone"}},
        "classes": [{"id": "toxins", "name": "Toxins", "members": []}, {"id": "creams", "name": "Creams", "members": [{"name": "LMX 4/LMX 5"}]}],
        "products": [{"id": "p", "name": "P", "manufacturer": "M", "treatmentType": "neurotoxin", "classes": ["nothing"], "source": "gone"}],
        "procedures": [],
        "standing": [
            {"id": "s", "severity": "info", "summary": "s", "advice": "a", "sources": [{"source": "label"}],
             "chart": [{"vitals": {"measures": ["pulse"], "flag": "high", "withinDays": 1}}]},
        ],
        "rules": [
            {"id": "r", "severity": "info", "summary": "s", "advice": "", "sources": [{"source": "absent"}],
             "when": [{"proposed": {"treatment": {"procedureTags": ["no-tag"]}}, "chart": [{"history": {"flags": ["tattoos"]}}, {"condition": {"codes": ["l91"]}}]}]},
            {"id": "r", "severity": "info", "summary": "s", "advice": "a", "sources": [{"source": "label"}],
             "when": [{"proposed": {"treatment": {}}}]},
        ],
    }))
    .unwrap();
    let problems = broken.problems().join("\n");
    for expected in [
        "source label has neither a URL nor a note",
        "class toxins has no members",
        "product p names the unknown class nothing",
        "product p cites the unknown source gone",
        "rule r has no summary or advice",
        "rule r cites the unknown source absent",
        "procedure tag no-tag",
        "unknown history flag tattoos",
        "\"l91\", which is no ICD-10 code",
        "rule id \"r\" is repeated",
        "rule r matches every treatment",
        "class creams has the name \"LMX 4/LMX 5\"",
        "standing alert s names the unknown vital sign pulse",
    ] {
        assert!(problems.contains(expected), "{expected} not in:\n{problems}");
    }
    let mut misspelt: Value = serde_json::from_str(include_str!("../../../rules/safety.json")).unwrap();
    misspelt["rules"][0]["when"][0]["chart"][0]["allergy"]["clases"] = json!(["botulinum-toxin"]);
    assert!(serde_json::from_value::<RuleSet>(misspelt).is_err(), "a misspelt field fails the rule set, not silently");
}

#[test]
fn names_match_as_whole_words_whatever_the_case_and_accents() {
    assert!(names(&words("Doxycycline hyclate 100 mg"), "doxycycline"));
    assert!(names(&words("XYLOCAINE 1%"), "Xylocaine"));
    assert!(names(&words("cow's milk"), "cow's milk"));
    assert!(!names(&words("Minocyclinex"), "minocycline"), "a longer word is another word");
    assert!(!names(&words("milk thistle"), "cow's milk"));
    assert_eq!(medication_classes(&RULES, "Dabigatran 150 mg", None), ["anticoagulants"]);
    assert_eq!(medication_classes(&RULES, "LMX 4 cream", None), ["amide-local-anesthetics"]);
    assert!(names(&words("Juvéderm Voluma XC"), "Juvederm Voluma XC"));
    assert_eq!(product_named(&RULES, &[], "juvederm voluma xc").map(|p| p.id.as_str()), Some("juvederm-voluma-xc"));
    assert_eq!(medication_classes(&RULES, "Accutane 40 mg", None), ["isotretinoin"]);
    assert_eq!(medication_classes(&RULES, "an unlisted drug", Some("6064")), ["isotretinoin"], "by RxNorm code");
    assert!(medication_classes(&RULES, "an unlisted drug", None).is_empty());
}

#[test]
fn a_toxin_allergy_contraindicates_every_toxin() {
    let chart = [allergy("Botox", "hives and swelling", "severe")];
    let toxin = treatment("neurotoxin", &["xeomin"], None);
    let alerts = check(&RULES, &Chart::of(&chart), &toxin, today());
    let alert = alerts.iter().find(|a| a.rule_id == "toxin-hypersensitivity-botulinum-toxin").expect("fired");
    assert_eq!(alert.severity, AlertSeverity::Contraindicated);
    assert_eq!(alert.facts.len(), 1);
    assert_eq!(alert.facts[0].kind, ChartKind::Allergy);
    assert!(alert.facts[0].detail.contains("Botox"), "{}", alert.facts[0].detail);
    assert!(!alert.sources.is_empty() && alert.sources.iter().all(|s| !s.source.title.is_empty()));
    assert!(!fires(
        "toxin-hypersensitivity-botulinum-toxin",
        &chart,
        &treatment("dermal-filler", &["restylane"], None)
    ));
    let resolved = [entry(
        ChartKind::Allergy,
        1,
        json!({"substance": "Botox", "reaction": "hives", "severity": "severe", "status": "resolved"}),
    )];
    assert!(!fires("toxin-hypersensitivity-botulinum-toxin", &resolved, &toxin), "only active allergies count");
}

#[test]
fn a_cows_milk_allergy_concerns_dysport_only() {
    let chart = [allergy("cow's milk protein", "vomiting", "moderate")];
    assert!(fires("toxin-dysport-cows-milk-protein-allergy", &chart, &treatment("neurotoxin", &["dysport"], None)));
    assert!(!fires(
        "toxin-dysport-cows-milk-protein-allergy",
        &chart,
        &treatment("neurotoxin", &["botox-cosmetic"], None)
    ));
}

#[test]
fn a_lidocaine_allergy_contraindicates_fillers_that_carry_lidocaine_only() {
    let chart = [allergy("Lidocaine", "rash", "moderate")];
    let rule = "filler-lidocaine-amide-anesthetic-allergy";
    assert!(fires(rule, &chart, &treatment("dermal-filler", &["restylane-l"], None)));
    assert!(fires(rule, &chart, &treatment("dermal-filler", &["juvederm-ultra-xc"], None)));
    assert!(!fires(rule, &chart, &treatment("dermal-filler", &["restylane"], None)), "Restylane has no lidocaine");
    assert!(!fires(rule, &chart, &treatment("dermal-filler", &["radiesse"], None)), "nor Radiesse without (+)");
    let other_amide = [allergy("bupivacaine (Marcaine)", "swelling", "severe")];
    assert!(fires(rule, &other_amide, &treatment("dermal-filler", &["radiesse-plus"], None)), "any amide anaesthetic");
}

#[test]
fn anaphylaxis_or_several_severe_allergies_contraindicate_fillers() {
    let rule = "filler-severe-allergy-anaphylaxis";
    let filler = treatment("dermal-filler", &["restylane"], None);
    assert!(fires(rule, &[allergy("peanut", "anaphylaxis", "severe")], &filler));
    assert!(fires(rule, &[allergy("bee venom", "throat swelling", "life-threatening")], &filler));
    let one_severe = [allergy("penicillin", "rash", "severe")];
    assert!(!fires(rule, &one_severe, &filler), "one severe allergy is not 'multiple'");
    let two_severe = [
        allergy("penicillin", "rash", "severe"),
        entry(
            ChartKind::Allergy,
            9,
            json!({"substance": "latex", "reaction": "hives", "severity": "severe", "status": "active"}),
        ),
    ];
    assert!(fires(rule, &two_severe, &filler));
    assert!(!fires(rule, &two_severe, &treatment("biostimulator", &["sculptra"], None)), "Sculptra's label lacks it");
}

#[test]
fn anticoagulants_and_nsaids_caution_before_fillers() {
    let rule = "filler-anticoagulant-antiplatelet-nsaid";
    let filler = treatment("dermal-filler", &[], None);
    assert!(fires(rule, &[medication("Eliquis 5 mg", "active", None)], &filler));
    assert!(fires(rule, &[medication("ibuprofen 400 mg", "on-hold", None)], &filler));
    assert!(!fires(rule, &[medication("ibuprofen 400 mg", "stopped", Some("2026-11-01"))], &filler), "stopped");
    assert!(!fires(rule, &[medication("Eliquis 5 mg", "active", None)], &treatment("neurotoxin", &[], None)));
}

#[test]
fn isotretinoin_within_six_months_stops_fully_ablative_resurfacing_but_not_what_the_consensus_clears() {
    let serious = "isotretinoin-fully-ablative-laser-or-mechanical-dermabrasion";
    let ablative = treatment("laser", &[], Some("fully-ablative-resurfacing"));
    let dermabrasion = treatment("other", &[], Some("mechanical-dermabrasion"));
    let taking = [medication("Absorica 30 mg", "active", None)];
    assert!(fires(serious, &taking, &ablative));
    assert!(fires(serious, &taking, &dermabrasion));
    // 183 days after stopping is the edge of the window; the day after is outside it.
    let edge = (today() - chrono::Days::new(183)).to_string();
    let outside = (today() - chrono::Days::new(184)).to_string();
    assert!(fires(serious, &[medication("isotretinoin", "completed", Some(&edge))], &ablative));
    assert!(!fires(serious, &[medication("isotretinoin", "completed", Some(&outside))], &ablative));
    assert!(
        fires(serious, &[medication("isotretinoin", "completed", None)], &ablative),
        "stopped on a date not recorded"
    );
    assert!(!fires(
        serious,
        &[medication("isotretinoin", "completed", None)],
        &treatment("laser", &[], Some("vascular-laser"))
    ));
    for cleared in [
        ("chemical-peel", "superficial-peel"),
        ("laser", "non-ablative-laser"),
        ("laser", "laser-hair-removal"),
        ("laser", "fractional-ablative-laser"),
    ] {
        let proposed = treatment(cleared.0, &[], Some(cleared.1));
        assert!(!fires(serious, &taking, &proposed), "{cleared:?} needs no delay");
        assert!(fires("isotretinoin-procedures-no-delay", &taking, &proposed), "{cleared:?} says so");
    }
    assert!(fires("isotretinoin-medium-or-deep-peel", &taking, &treatment("chemical-peel", &[], Some("deep-peel"))));
}

#[test]
fn isotretinoin_and_a_tetracycline_are_flagged_whichever_comes_second() {
    let rule = "isotretinoin-systemic-tetracycline";
    assert!(fires(rule, &[medication("Doxycycline hyclate 100 mg", "active", None)], &medication_proposal("Claravis")));
    assert!(fires(rule, &[medication("isotretinoin 20 mg", "active", None)], &medication_proposal("minocycline")));
    assert!(!fires(rule, &[medication("isotretinoin 20 mg", "active", None)], &medication_proposal("amoxicillin")));
    assert!(!fires(
        rule,
        &[medication("doxycycline", "stopped", Some("2026-12-01"))],
        &medication_proposal("isotretinoin")
    ));
}

#[test]
fn another_toxin_within_three_months_and_aminoglycosides_either_way() {
    let rule = "toxin-another-toxin-within-3-months";
    let toxin = treatment("neurotoxin", &["dysport"], None);
    let edge = format!("{}T09:00:00Z", today() - chrono::Days::new(90));
    let outside = format!("{}T09:00:00Z", today() - chrono::Days::new(91));
    assert!(fires(rule, &[past_treatment("neurotoxin", &edge)], &toxin));
    assert!(!fires(rule, &[past_treatment("neurotoxin", &outside)], &toxin));
    assert!(!fires(rule, &[past_treatment("dermal-filler", &edge)], &toxin));
    let aminoglycoside = "toxin-aminoglycoside-or-neuromuscular-blocker";
    assert!(fires(aminoglycoside, &[medication("gentamicin", "active", None)], &toxin));
    assert!(fires(aminoglycoside, &[past_treatment("neurotoxin", &edge)], &medication_proposal("tobramycin")));
}

#[test]
fn pregnancy_keloids_phototype_and_cold_sores_come_from_the_profile() {
    let pregnant = [profile(json!({"pregnancy": {"status": "pregnant", "recordedOn": "2026-11-20"}}))];
    assert!(fires("toxin-pregnancy", &pregnant, &treatment("neurotoxin", &[], None)));
    assert!(!fires("toxin-breastfeeding", &pregnant, &treatment("neurotoxin", &[], None)));
    assert!(fires("filler-pregnancy-breastfeeding", &pregnant, &treatment("dermal-filler", &[], None)));
    let keloids = [profile(json!({"history": {"keloids": true}}))];
    assert!(fires("filler-sculptra-keloid-history", &keloids, &treatment("biostimulator", &["sculptra"], None)));
    assert!(!fires("filler-sculptra-keloid-history", &keloids, &treatment("dermal-filler", &["restylane"], None)));
    assert!(fires("filler-ha-keloid-history-not-studied", &keloids, &treatment("dermal-filler", &["restylane"], None)));
    assert!(fires(
        "keloid-history-resurfacing-microneedling-deep-peel",
        &keloids,
        &treatment("microneedling", &[], None)
    ));
    let no_keloids = [profile(json!({"history": {"keloids": false}}))];
    assert!(!fires(
        "keloid-history-resurfacing-microneedling-deep-peel",
        &no_keloids,
        &treatment("microneedling", &[], None)
    ));
    let dark = [profile(json!({"fitzpatrick": "V"}))];
    let ipl = treatment("laser", &[], Some("intense-pulsed-light"));
    assert!(fires("fitzpatrick-iv-vi-ipl-laser-peel", &dark, &ipl));
    assert!(!fires("fitzpatrick-iv-vi-ipl-laser-peel", &[profile(json!({"fitzpatrick": "III"}))], &ipl));
    // A cold-sore history cautions before filler, unless a cold sore is active now (which is its own rule).
    let cold_sores = [profile(json!({"history": {"coldSores": true}}))];
    let filler = treatment("dermal-filler", &[], None);
    assert!(fires("filler-herpes-labialis-history-perioral", &cold_sores, &filler));
    let active_now = [cold_sores[0].clone(), condition("B00.1")];
    assert!(!fires("filler-herpes-labialis-history-perioral", &active_now, &filler));
    assert!(fires("filler-active-inflammation-or-infection-at-site", &active_now, &filler));
}

#[test]
fn entries_marked_entered_in_error_do_not_count_and_alerts_come_worst_first() {
    let mut wrong = allergy("Botox", "hives", "severe");
    wrong.entered_in_error = serde_json::from_value(
        json!({"reason": "wrong patient", "by": {"userId": "p", "role": "practitioner"}, "at": "2026-11-02T10:00:00Z"}),
    )
    .unwrap();
    let toxin = treatment("neurotoxin", &[], None);
    assert!(!fires("toxin-hypersensitivity-botulinum-toxin", &[wrong], &toxin));
    let chart = [
        allergy("Botox", "hives", "severe"),
        profile(
            json!({"pregnancy": {"status": "pregnant", "recordedOn": "2026-11-20"}, "history": {"previousToxinReaction": true}}),
        ),
    ];
    let alerts = check(&RULES, &Chart::of(&chart), &toxin, today());
    let ranks: Vec<u8> = alerts.iter().map(|a| a.severity.rank()).collect();
    assert!(ranks.len() >= 3 && ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    assert!(fired(&[], &toxin).is_empty(), "an empty chart raises nothing");
}

/// One chart and proposal that raise each rule: every rule of the shipped set has one.
#[test]
fn every_rule_fires_for_a_chart_it_names() {
    let toxin = || treatment("neurotoxin", &["botox-cosmetic"], None);
    let filler = || treatment("dermal-filler", &["restylane-l"], None);
    let ablative = || treatment("laser", &[], Some("fully-ablative-resurfacing"));
    let history = |flag: &str| profile(json!({"history": {flag: true}}));
    let pregnancy = |status: &str| profile(json!({"pregnancy": {"status": status, "recordedOn": "2026-11-20"}}));
    let recent = format!("{}T09:00:00Z", today() - chrono::Days::new(30));
    let cases: Vec<(&str, Vec<Entry>, Proposed<'static>)> = vec![
        ("toxin-hypersensitivity-botulinum-toxin", vec![allergy("Dysport", "hives", "moderate")], toxin()),
        (
            "toxin-dysport-cows-milk-protein-allergy",
            vec![allergy("casein", "rash", "mild")],
            treatment("neurotoxin", &["dysport"], None),
        ),
        ("toxin-infection-at-injection-site", vec![condition("L03.211")], toxin()),
        ("toxin-aminoglycoside-or-neuromuscular-blocker", vec![medication("amikacin", "active", None)], toxin()),
        ("toxin-anticholinergic-drug", vec![medication("oxybutynin 5 mg", "active", None)], toxin()),
        ("toxin-muscle-relaxant", vec![medication("cyclobenzaprine", "active", None)], toxin()),
        ("toxin-another-toxin-within-3-months", vec![past_treatment("neurotoxin", &recent)], toxin()),
        ("toxin-pregnancy", vec![pregnancy("pregnant")], toxin()),
        ("toxin-breastfeeding", vec![pregnancy("breastfeeding")], toxin()),
        ("toxin-neuromuscular-disorder", vec![condition("G70.00")], toxin()),
        ("toxin-previous-toxin-reaction", vec![history("previousToxinReaction")], toxin()),
        ("filler-severe-allergy-anaphylaxis", vec![allergy("shellfish", "anaphylaxis", "severe")], filler()),
        ("filler-lidocaine-amide-anesthetic-allergy", vec![allergy("Xylocaine", "rash", "mild")], filler()),
        (
            "filler-gram-positive-bacterial-protein-allergy",
            vec![allergy("gram-positive bacterial proteins", "rash", "mild")],
            filler(),
        ),
        ("filler-bleeding-disorder", vec![condition("D68.0")], filler()),
        ("filler-anticoagulant-antiplatelet-nsaid", vec![medication("warfarin", "active", None)], filler()),
        ("filler-active-inflammation-or-infection-at-site", vec![condition("L70.0")], filler()),
        ("filler-herpes-labialis-history-perioral", vec![history("coldSores")], filler()),
        ("filler-pregnancy-breastfeeding", vec![pregnancy("breastfeeding")], filler()),
        ("filler-sculptra-keloid-history", vec![condition("L91.0")], treatment("biostimulator", &["sculptra"], None)),
        ("filler-ha-keloid-history-not-studied", vec![history("keloids")], filler()),
        ("filler-previous-filler-reaction", vec![history("previousFillerReaction")], filler()),
        ("filler-immunosuppression-autoimmune", vec![medication("methotrexate", "active", None)], filler()),
        (
            "isotretinoin-fully-ablative-laser-or-mechanical-dermabrasion",
            vec![medication("Zenatane", "active", None)],
            ablative(),
        ),
        (
            "isotretinoin-procedures-no-delay",
            vec![medication("isotretinoin", "active", None)],
            treatment("laser", &[], Some("vascular-laser")),
        ),
        (
            "isotretinoin-medium-or-deep-peel",
            vec![medication("isotretinoin", "active", None)],
            treatment("chemical-peel", &[], Some("medium-peel")),
        ),
        (
            "isotretinoin-systemic-tetracycline",
            vec![medication("Solodyn", "active", None)],
            medication_proposal("Amnesteem"),
        ),
        ("keloid-history-resurfacing-microneedling-deep-peel", vec![history("keloids")], ablative()),
        (
            "fitzpatrick-iv-vi-ipl-laser-peel",
            vec![profile(json!({"fitzpatrick": "IV"}))],
            treatment("laser", &[], Some("laser-hair-removal")),
        ),
        (
            "hsv-history-resurfacing-or-peel",
            vec![history("coldSores")],
            treatment("chemical-peel", &[], Some("deep-peel")),
        ),
        (
            "autoimmune-laser-resurfacing",
            vec![history("autoimmuneCondition")],
            treatment("laser", &[], Some("non-ablative-laser")),
        ),
    ];
    for (rule, chart, proposed) in &cases {
        assert!(fires(rule, chart, proposed), "{rule} did not fire: {:?}", fired(chart, proposed));
        assert!(!fires(rule, &[], proposed), "{rule} fired on an empty chart");
    }
    for rule in &RULES.rules {
        assert!(cases.iter().any(|(id, ..)| *id == rule.id), "{} has no case here: add one", rule.id);
    }
}

fn vitals(measured: &str, data: Value) -> Entry {
    let mut data = data;
    data["measuredAt"] = json!(measured);
    entry(ChartKind::Vitals, 6, data)
}

fn days_ago(days: u64, time: &str) -> String {
    format!("{}T{time}Z", today() - chrono::Days::new(days))
}

/// The ids of the standing alerts a chart raises.
fn standing_of(chart: &[Entry]) -> Vec<String> {
    standing(&RULES, &Chart::of(chart), today()).into_iter().map(|a| a.rule_id).collect()
}

#[test]
fn standing_alerts_come_from_the_chart_alone_within_their_windows() {
    let stopped = |days: u64| medication("Absorica", "stopped", Some(&(today() - chrono::Days::new(days)).to_string()));
    assert_eq!(standing_of(&[stopped(183)]), ["standing-isotretinoin"]);
    assert!(standing_of(&[stopped(184)]).is_empty(), "six months after stopping, isotretinoin stands no more");
    assert_eq!(standing_of(&[medication("Eliquis", "active", None)]), ["standing-bleeding-risk"]);
    let pressure = json!({"bloodPressure": {"systolic": 162, "diastolic": 85}});
    let alerts = standing(&RULES, &Chart::of(&[vitals(&days_ago(30, "09:00:00"), pressure.clone())]), today());
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule_id, "vitals-blood-pressure-high");
    assert!(alerts[0].facts[0].detail.starts_with("bloodPressure.systolic 162 (high; normal 90-139 mmHg)"));
    assert!(standing_of(&[vitals(&days_ago(31, "09:00:00"), pressure.clone())]).is_empty(), "an old reading");
    // Only the latest set counts: a normal reading after the high one clears it.
    let normal = vitals(&days_ago(1, "09:00:00"), json!({"bloodPressure": {"systolic": 120, "diastolic": 75}}));
    assert!(standing_of(&[vitals(&days_ago(2, "09:00:00"), pressure), normal]).is_empty());
    let fever = vitals(&days_ago(0, "08:00:00"), json!({"temperature": {"value": 101.3, "unit": "F"}}));
    assert_eq!(standing_of(&[fever]), ["vitals-temperature-high"]);
    let worst_first = standing_of(&[
        allergy("penicillin", "anaphylaxis", "life-threatening"),
        profile(json!({"history": {"keloids": true}})),
        medication("ibuprofen", "active", None),
    ]);
    assert_eq!(worst_first, ["standing-severe-allergy", "standing-bleeding-risk", "standing-keloids"]);
}

#[test]
fn every_standing_alert_rises_for_a_chart_it_names() {
    let recent = |data: Value| vitals(&days_ago(0, "08:00:00"), data);
    let cases: Vec<(&str, Entry)> = vec![
        ("standing-isotretinoin", medication("Claravis", "active", None)),
        ("standing-bleeding-risk", medication("clopidogrel", "active", None)),
        ("standing-severe-allergy", allergy("latex", "anaphylactic shock", "severe")),
        (
            "standing-pregnancy-breastfeeding",
            profile(json!({"pregnancy": {"status": "breastfeeding", "recordedOn": "2026-11-20"}})),
        ),
        ("standing-keloids", condition("L91.0")),
        ("standing-cold-sores", condition("B00.1")),
        ("vitals-blood-pressure-high", recent(json!({"bloodPressure": {"systolic": 130, "diastolic": 95}}))),
        ("vitals-blood-pressure-low", recent(json!({"bloodPressure": {"systolic": 85, "diastolic": 55}}))),
        ("vitals-heart-rate-high", recent(json!({"heartRate": 118}))),
        ("vitals-heart-rate-low", recent(json!({"heartRate": 48}))),
        ("vitals-temperature-high", recent(json!({"temperature": {"value": 38.4, "unit": "C"}}))),
        ("vitals-temperature-low", recent(json!({"temperature": {"value": 35.6, "unit": "C"}}))),
        (
            "vitals-bmi-high",
            recent(json!({"weight": {"value": 95, "unit": "kg"}, "height": {"value": 175, "unit": "cm"}})),
        ),
        (
            "vitals-bmi-low",
            recent(json!({"weight": {"value": 50, "unit": "kg"}, "height": {"value": 175, "unit": "cm"}})),
        ),
    ];
    for (id, chart) in &cases {
        assert_eq!(standing_of(std::slice::from_ref(chart)), [*id], "{id}");
    }
    for alert in &RULES.standing {
        assert!(cases.iter().any(|(id, _)| *id == alert.id), "{} has no case here: add one", alert.id);
    }
    assert!(standing_of(&[]).is_empty());
}

mod gate {
    use super::*;
    use crate::domain::safety::gate::{Acknowledgement, Decision, Override, Refusal};

    fn actor() -> crate::domain::chart::Actor {
        serde_json::from_value(json!({"userId": "practitioner-1", "role": "practitioner"})).unwrap()
    }

    fn reason(text: &str) -> crate::domain::values::ShortText {
        serde_json::from_value(json!(text)).unwrap()
    }

    /// A lidocaine allergy (contraindicated) and an NSAID (caution) before a lidocaine filler.
    fn alerts() -> Vec<Alert> {
        let chart = [allergy("lidocaine", "hives", "moderate"), medication("naproxen", "active", None)];
        check(&RULES, &Chart::of(&chart), &treatment("dermal-filler", &["restylane-l"], None), today())
    }

    const LIDOCAINE: &str = "filler-lidocaine-amide-anesthetic-allergy";

    fn ack(rule: &str) -> Acknowledgement {
        Acknowledgement { rule_id: rule.into(), reason: reason("allergy disproved by patch test 2026-11-02") }
    }

    fn decide(given: Vec<Acknowledgement>, kept: &[Override], enforced: bool) -> Result<SafetyRecord, Refusal> {
        let decision = Decision { alerts: alerts(), given, kept, enforced };
        decision.decide(&actor(), "2026-12-03T10:00:00.000000Z", vec!["House HA".into()])
    }

    use crate::domain::safety::gate::SafetyRecord;

    #[test]
    fn a_blocking_alert_refuses_until_acknowledged_and_a_caution_never_does() {
        match decide(Vec::new(), &[], true) {
            Err(Refusal::Unacknowledged { alerts, missing }) => {
                assert_eq!(missing, [LIDOCAINE]);
                assert!(alerts.iter().any(|a| a.rule_id == "filler-anticoagulant-antiplatelet-nsaid"));
            }
            other => panic!("{other:?}"),
        }
        let record = decide(vec![ack(LIDOCAINE)], &[], true).unwrap();
        assert_eq!(record.overrides.len(), 1);
        assert_eq!(record.overrides[0].rule_id, LIDOCAINE);
        assert_eq!(record.made_at("2026-12-03T10:00:00.000000Z").count(), 1);
        assert_eq!(record.alerts.len(), 2, "the caution is kept with the entry too");
        assert_eq!(record.unmatched_products, ["House HA"]);
        let stored = serde_json::to_value(&record).unwrap();
        assert_eq!(serde_json::from_value::<SafetyRecord>(stored).unwrap(), record, "it reads back as written");
    }

    #[test]
    fn an_acknowledgement_kept_from_the_version_before_still_counts_but_is_not_made_again() {
        let earlier = decide(vec![ack(LIDOCAINE)], &[], true).unwrap();
        let decision = Decision { alerts: alerts(), given: Vec::new(), kept: &earlier.overrides, enforced: true };
        let later = decision.decide(&actor(), "2026-12-04T10:00:00.000000Z", Vec::new()).unwrap();
        assert_eq!(later.overrides, earlier.overrides);
        assert_eq!(later.made_at("2026-12-04T10:00:00.000000Z").count(), 0);
    }

    #[test]
    fn a_moot_or_repeated_acknowledgement_is_refused_and_another_source_is_recorded_not_refused() {
        let caution = "filler-anticoagulant-antiplatelet-nsaid";
        assert_eq!(decide(vec![ack(caution)], &[], true).unwrap_err(), Refusal::Moot { index: 0 });
        assert_eq!(
            decide(vec![ack(LIDOCAINE), ack(LIDOCAINE)], &[], true).unwrap_err(),
            Refusal::Repeated { index: 1 }
        );
        let recorded = decide(Vec::new(), &[], false).unwrap();
        assert!(recorded.overrides.is_empty());
        assert_eq!(recorded.alerts.len(), 2);
    }
}
