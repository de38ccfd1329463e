//! Vital signs: physically impossible values are refused, values outside the normal adult range flagged,
//! BMI derived from weight and height.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Data, allow};
use crate::domain::fields::{Form, Issue};
use crate::domain::values::{PastInstant, ShortText};

crate::string_enum! {
    /// Units of body temperature.
    TemperatureUnit { Celsius = "C", Fahrenheit = "F" }
}

crate::string_enum! {
    /// Units of body weight.
    WeightUnit { Kilogram = "kg", Pound = "lb" }
}

crate::string_enum! {
    /// Units of body height.
    HeightUnit { Centimetre = "cm", Inch = "in" }
}

/// Blood pressure in mmHg.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BloodPressure {
    pub systolic: f64,
    pub diastolic: f64,
}

/// A measured value with its unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured<U> {
    pub value: f64,
    pub unit: U,
}

/// One set of vital signs taken at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vitals {
    pub measured_at: PastInstant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blood_pressure: Option<BloodPressure>,
    /// Beats per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heart_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Measured<TemperatureUnit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Measured<WeightUnit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<Measured<HeightUnit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
}

/// The bounds of what a living patient can measure, in the unit the reading is given in.
fn possible_temperature(unit: TemperatureUnit) -> (f64, f64) {
    match unit {
        TemperatureUnit::Celsius => (25.0, 45.0),
        TemperatureUnit::Fahrenheit => (77.0, 113.0),
    }
}

fn possible_weight(unit: WeightUnit) -> (f64, f64) {
    match unit {
        WeightUnit::Kilogram => (0.3, 650.0),
        WeightUnit::Pound => (0.66, 1433.0),
    }
}

fn possible_height(unit: HeightUnit) -> (f64, f64) {
    match unit {
        HeightUnit::Centimetre => (20.0, 275.0),
        HeightUnit::Inch => (7.9, 108.3),
    }
}

/// The schema of `{value, unit}`: one branch per unit, with the range that the unit gives.
pub fn measured_schema<U: Copy + std::fmt::Display>(
    units: &[U],
    bounds: impl Fn(U) -> (f64, f64),
) -> serde_json::Value {
    let branches: Vec<serde_json::Value> = units
        .iter()
        .map(|unit| {
            let (lo, hi) = bounds(*unit);
            serde_json::json!({"type": "object", "additionalProperties": false, "required": ["value", "unit"], "properties": {
                "value": {"type": "number", "minimum": lo, "maximum": hi}, "unit": {"const": unit.to_string()},
            }})
        })
        .collect();
    serde_json::json!({"oneOf": branches})
}

/// The schemas of the three measurements, by field.
pub fn measurement_schemas() -> [(&'static str, serde_json::Value); 3] {
    [
        ("temperature", measured_schema(TemperatureUnit::ALL, possible_temperature)),
        ("weight", measured_schema(WeightUnit::ALL, possible_weight)),
        ("height", measured_schema(HeightUnit::ALL, possible_height)),
    ]
}

/// Reads `{value, unit}` with the possible range that the unit gives.
fn measured<U: crate::domain::fields::FromJson + Copy + std::fmt::Display>(
    form: &Form<'_>,
    field: &str,
    bounds: impl Fn(U) -> (f64, f64),
) -> Option<Measured<U>> {
    form.object(field, false, |m| {
        m.only(&["value", "unit"]);
        let unit: U = m.req("unit")?;
        let (lo, hi) = bounds(unit);
        let value = m.number("value", true, lo, hi, &unit.to_string())?;
        Some(Measured { value, unit })
    })
}

/// The measurements, at least one of which a reading gives.
pub const MEASURES: [&str; 5] = ["bloodPressure", "heartRate", "temperature", "weight", "height"];

impl Vitals {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        let measures = MEASURES;
        let mut fields = vec!["measuredAt", "note"];
        fields.extend_from_slice(&measures);
        allow(form, &fields);
        let measured_at = form.opt("measuredAt").unwrap_or_else(|| PastInstant::at(form.ctx.now));
        let blood_pressure = form.object("bloodPressure", false, |bp| {
            bp.only(&["systolic", "diastolic"]);
            let systolic = bp.number("systolic", true, 40.0, 300.0, "mmHg");
            let diastolic = bp.number("diastolic", true, 20.0, 200.0, "mmHg");
            let (systolic, diastolic) = (systolic?, diastolic?);
            if diastolic >= systolic {
                bp.reject("diastolic", Issue::Rule("must be lower than the systolic pressure".into()));
                return None;
            }
            Some(BloodPressure { systolic, diastolic })
        });
        let heart_rate = form.number("heartRate", false, 20.0, 300.0, "beats per minute");
        let temperature = measured(form, "temperature", possible_temperature);
        let weight = measured(form, "weight", possible_weight);
        let height = measured(form, "height", possible_height);
        let note = form.opt("note");
        if !measures.iter().any(|m| form.given(m)) {
            form.reject("", Issue::Shape(format!("at least one measurement is required: {}", measures.join(", "))));
            return None;
        }
        Some(Self { measured_at, blood_pressure, heart_rate, temperature, weight, height, note })
    }

    fn celsius(&self) -> Option<f64> {
        self.temperature.as_ref().map(|t| match t.unit {
            TemperatureUnit::Celsius => t.value,
            TemperatureUnit::Fahrenheit => (t.value - 32.0) * 5.0 / 9.0,
        })
    }

    fn kilograms(&self) -> Option<f64> {
        self.weight.as_ref().map(|w| match w.unit {
            WeightUnit::Kilogram => w.value,
            WeightUnit::Pound => w.value * 0.453_592_37,
        })
    }

    fn metres(&self) -> Option<f64> {
        self.height.as_ref().map(|h| match h.unit {
            HeightUnit::Centimetre => h.value / 100.0,
            HeightUnit::Inch => h.value * 0.0254,
        })
    }

    /// Body-mass index (kg/m²) to one decimal, when weight and height were both taken.
    pub fn bmi(&self) -> Option<f64> {
        let (kg, m) = (self.kilograms()?, self.metres()?);
        Some((kg / (m * m) * 10.0).round() / 10.0)
    }

    /// Every value outside the normal adult resting range, with that range.
    pub fn flags(&self) -> Vec<RangeFlag> {
        let mut flags = Vec::new();
        let mut check = |measure: &'static str, value: Option<f64>, lo: f64, hi: f64, normal_range: &'static str| {
            if let Some(value) = value {
                let flag = if value < lo {
                    Flag::Low
                } else if value > hi {
                    Flag::High
                } else {
                    return;
                };
                flags.push(RangeFlag { measure, flag, normal_range, value });
            }
        };
        let bp = self.blood_pressure.as_ref();
        check("bloodPressure.systolic", bp.map(|b| b.systolic), 90.0, 139.0, "90-139 mmHg");
        check("bloodPressure.diastolic", bp.map(|b| b.diastolic), 60.0, 89.0, "60-89 mmHg");
        check("heartRate", self.heart_rate, 60.0, 100.0, "60-100 beats per minute");
        check("temperature", self.celsius(), 36.1, 37.9, "36.1-37.9 C (97-100.2 F)");
        check("bmi", self.bmi(), 18.5, 24.9, "18.5-24.9 kg/m2");
        flags
    }
}

crate::string_enum! {
    /// Which side of its normal range a value falls.
    Flag { Low = "low", High = "high" }
}

/// The measures that are flagged, by the names `flags` gives them.
pub const FLAGGED_MEASURES: [&str; 5] =
    ["bloodPressure.systolic", "bloodPressure.diastolic", "heartRate", "temperature", "bmi"];

/// A value outside its normal range (the value itself, in the range's unit, is not shown with the flag:
/// the reading is beside it).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeFlag {
    pub measure: &'static str,
    pub flag: Flag,
    pub normal_range: &'static str,
    #[serde(skip)]
    pub value: f64,
}

/// BMI and range flags, for readers.
pub fn derived(data: &Data) -> Data {
    let mut out = Data::new();
    let Ok(vitals) = serde_json::from_value::<Vitals>(Value::Object(data.clone())) else {
        return out;
    };
    if let Some(bmi) = vitals.bmi() {
        out.insert("bmi".into(), json!(bmi));
    }
    out.insert("flags".into(), serde_json::to_value(vitals.flags()).unwrap_or_else(|_| json!([])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::{Context, Errors};

    fn read(body: Value) -> (Option<Vitals>, Vec<String>) {
        let errors = Errors::default();
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T12:00:00Z").unwrap().to_utc();
        let vitals = Form::root(&body, &errors, Context::at(now)).and_then(|f| Vitals::read(&f));
        (vitals, errors.into_vec().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect())
    }

    #[test]
    fn impossible_values_are_refused_field_by_field() {
        let (vitals, errors) = read(json!({
            "bloodPressure": {"systolic": 400, "diastolic": 80},
            "heartRate": 0,
            "temperature": {"value": 98.6, "unit": "C"},
            "weight": {"value": -3, "unit": "kg"},
        }));
        assert!(vitals.is_none_or(|v| v.heart_rate.is_none() && v.weight.is_none()));
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("bloodPressure.systolic"));
        assert!(errors[2].starts_with("temperature.value"), "98.6 is Fahrenheit, impossible in Celsius");
        let (_, errors) = read(json!({"bloodPressure": {"systolic": 80, "diastolic": 90}}));
        assert_eq!(errors, ["bloodPressure.diastolic: must be lower than the systolic pressure"]);
    }

    #[test]
    fn abnormal_values_are_flagged_and_bmi_is_derived_across_units() {
        let (vitals, errors) = read(json!({
            "bloodPressure": {"systolic": 150, "diastolic": 85},
            "heartRate": 72,
            "temperature": {"value": 100.9, "unit": "F"},
            "weight": {"value": 154.3, "unit": "lb"},
            "height": {"value": 70, "unit": "in"},
        }));
        assert!(errors.is_empty(), "{errors:?}");
        let vitals = vitals.unwrap();
        assert_eq!(vitals.bmi(), Some(22.1));
        let flagged: Vec<String> = vitals.flags().iter().map(|f| format!("{} {}", f.measure, f.flag)).collect();
        assert_eq!(flagged, ["bloodPressure.systolic high", "temperature high"]);
        assert_eq!(vitals.measured_at.as_str(), "2026-06-15T12:00:00.000000Z", "taken now unless said otherwise");
    }

    #[test]
    fn a_set_without_any_measurement_is_refused() {
        let (vitals, errors) = read(json!({"note": "patient declined"}));
        assert!(vitals.is_none());
        assert_eq!(errors.len(), 1);
    }
}
