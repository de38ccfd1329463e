//! Aesthetic treatments: what was done where, with which product lots (an expired lot is refused), the
//! injection points on a diagram, and the follow-up.

use serde::{Deserialize, Serialize};

use super::allow;
use crate::domain::fields::{Context, Form, Issue, ParseStr};
use crate::domain::safety::ProcedureId;
use crate::domain::safety::rules::RULES;
use crate::domain::values::{Date, EntityId, LongText, PastInstant, ShortText, UserId};

crate::string_enum! {
    /// The kind of procedure.
    TreatmentType {
        Neurotoxin = "neurotoxin",
        DermalFiller = "dermal-filler",
        Biostimulator = "biostimulator",
        Laser = "laser",
        ChemicalPeel = "chemical-peel",
        Microneedling = "microneedling",
        ThreadLift = "thread-lift",
        Other = "other",
    }
}

impl TreatmentType {
    /// Whether a treatment of this type must name its procedure: the types whose safety rules tell their
    /// procedures apart (an ablative laser from a non-ablative one, a deep peel from a superficial one).
    pub fn names_its_procedure(self) -> bool {
        matches!(self, TreatmentType::Laser | TreatmentType::ChemicalPeel)
    }

    /// Procedures that always put a product into the patient, so its lot must be recorded.
    pub fn uses_products(self) -> bool {
        matches!(
            self,
            TreatmentType::Neurotoxin
                | TreatmentType::DermalFiller
                | TreatmentType::Biostimulator
                | TreatmentType::ThreadLift
        )
    }
}

crate::string_enum! {
    /// Units of a product quantity: toxin units, volume, or whole items.
    QuantityUnit { Units = "units", Millilitres = "mL", Syringes = "syringes", Vials = "vials", Threads = "threads" }
}

crate::string_enum! {
    /// The diagram injection points are placed on.
    Diagram { FaceFront = "face-front", FaceLeft = "face-left", FaceRight = "face-right", BodyFront = "body-front", BodyBack = "body-back" }
}

/// A lot number as printed on the package: 1 to 40 letters, digits, spaces, `-`, `/` or `.`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LotNumber(String);

impl LotNumber {
    /// The lot number as the recall index keys it: letters and digits only, upper case, so that
    /// `ab-123` and `AB123` find the same patients.
    pub fn folded(&self) -> String {
        fold_lot(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Folds a lot number for the recall index.
pub fn fold_lot(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

impl ParseStr for LotNumber {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let t = s.trim();
        let ok = (1..=40).contains(&t.len())
            && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.'))
            && t.chars().any(|c| c.is_ascii_alphanumeric());
        if ok { Ok(Self(t.to_string())) } else { Err("must be 1 to 40 letters, digits, spaces, - / or .".into()) }
    }

    /// Its shape, and at least one letter or digit.
    fn schema() -> serde_json::Value {
        let shape = crate::domain::schema::trimmed("[A-Za-z0-9./-]([A-Za-z0-9 ./-]{0,38}[A-Za-z0-9./-])?");
        serde_json::json!({"type": "string", "allOf": [shape, {"pattern": "[A-Za-z0-9]"}]})
    }
}

/// An amount of product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: f64,
    pub unit: QuantityUnit,
}

impl Quantity {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["value", "unit"]);
        let value = form.number("value", true, 0.001, 10_000.0, "");
        let unit = form.req("unit");
        Some(Self { value: value?, unit: unit? })
    }
}

/// One product used, with the lot that a recall would name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductUse {
    pub product: ShortText,
    pub manufacturer: ShortText,
    pub lot_number: LotNumber,
    pub expiry_date: Date,
    pub quantity: Quantity,
}

impl ProductUse {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["product", "manufacturer", "lotNumber", "expiryDate", "quantity"]);
        let product = form.req("product");
        let manufacturer = form.req("manufacturer");
        let lot_number = form.req("lotNumber");
        let expiry_date = form.req("expiryDate");
        let quantity = form.object("quantity", true, Quantity::read);
        Some(Self {
            product: product?,
            manufacturer: manufacturer?,
            lot_number: lot_number?,
            expiry_date: expiry_date?,
            quantity: quantity?,
        })
    }
}

/// One injection point on a diagram: `x` and `y` from 0 to 1, from the diagram's top-left corner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectionPoint {
    pub diagram: Diagram,
    pub x: f64,
    pub y: f64,
    pub amount: Quantity,
    /// Which of the treatment's products (by position in `products`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<ShortText>,
}

impl InjectionPoint {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["diagram", "x", "y", "amount", "productIndex", "area", "depth"]);
        let diagram = form.req("diagram");
        // A point on a diagram is kept to a millionth of its width (which also keeps every coordinate
        // within the range of numbers the store can hold).
        let position = |field: &str| form.number(field, true, 0.0, 1.0, "").map(|v| (v * 1e6).round() / 1e6);
        let (x, y) = (position("x"), position("y"));
        let amount = form.object("amount", true, Quantity::read);
        let product_index = match form.number("productIndex", false, 0.0, 19.0, "") {
            Some(i) if i.fract() == 0.0 => Some(i as usize),
            Some(_) => {
                form.reject("productIndex", Issue::Rule("must be a whole number".into()));
                return None;
            }
            None => None,
        };
        Some(Self {
            diagram: diagram?,
            x: x?,
            y: y?,
            amount: amount?,
            product_index,
            area: form.opt("area"),
            depth: form.opt("depth"),
        })
    }
}

/// What the patient was told to do afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aftercare {
    pub given: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<LongText>,
}

/// One aesthetic treatment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Treatment {
    #[serde(rename = "type")]
    pub treatment_type: TreatmentType,
    /// The procedure of the safety catalogue: required for the types whose procedures rules tell apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<ProcedureId>,
    pub performed_at: PastInstant,
    pub treated_areas: Vec<ShortText>,
    #[serde(default)]
    pub products: Vec<ProductUse>,
    #[serde(default)]
    pub injection_points: Vec<InjectionPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technique: Option<LongText>,
    /// Who performed it; the recording staff member unless said otherwise (or performed by someone who is
    /// not a member of the clinic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practitioner_id: Option<UserId>,
    /// Who performed it when that was not a member of this clinic: as the system it was imported from
    /// named them, or as the patient told of a treatment given elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_practitioner: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_id: Option<EntityId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aftercare: Option<Aftercare>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<LongText>,
}

impl Treatment {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        allow(
            form,
            &[
                "type",
                "procedure",
                "performedAt",
                "treatedAreas",
                "products",
                "injectionPoints",
                "technique",
                "practitionerId",
                "externalPractitioner",
                "consentId",
                "aftercare",
                "followUpDate",
                "outcome",
            ],
        );
        let treatment_type: Option<TreatmentType> = form.req("type");
        let procedure: Option<ProcedureId> = form.opt("procedure");
        let performed_at: PastInstant = form.opt("performedAt").unwrap_or_else(|| PastInstant::at(form.ctx.now));
        let treated_areas = form.list("treatedAreas", 1, 20);
        let products = form.objects("products", 0, 20, ProductUse::read);
        let injection_points = form.objects("injectionPoints", 0, 300, InjectionPoint::read);
        let technique = form.opt("technique");
        let practitioner_id = form.opt("practitionerId");
        let external_practitioner = form.opt("externalPractitioner");
        let consent_id = form.opt("consentId");
        let aftercare = form.object("aftercare", false, |a| {
            a.only(&["given", "instructions"]);
            let given = a.req("given");
            Some(Aftercare { given: given?, instructions: a.opt("instructions") })
        });
        let follow_up_date: Option<Date> = form.opt("followUpDate");
        let outcome = form.opt("outcome");
        let (treatment_type, products, injection_points) = (treatment_type?, products?, injection_points?);
        let day = performed_at.date();
        let mut ok = procedure_fits(form, treatment_type, procedure.as_ref());
        if treatment_type.uses_products() && products.is_empty() {
            form.reject(
                "products",
                Issue::Rule(format!("must name the product and lot used in a {treatment_type} treatment")),
            );
            ok = false;
        }
        for (i, p) in products.iter().enumerate() {
            if p.expiry_date.0 < day {
                let message = format!(
                    "the product expired on {}, before the treatment on {day}: an expired product may not be used",
                    p.expiry_date
                );
                form.reject(&format!("products[{i}].expiryDate"), Issue::Rule(message));
                ok = false;
            }
        }
        ok &= check_points(form, &products, &injection_points);
        if form.given("practitionerId") && form.given("externalPractitioner") {
            form.reject(
                "externalPractitioner",
                Issue::Rule("is for a treatment no member of the clinic performed: give it or practitionerId".into()),
            );
            ok = false;
        }
        if let Some(follow_up) = follow_up_date
            && follow_up.0 < day
        {
            form.reject("followUpDate", Issue::Rule(format!("must not be before the treatment on {day}")));
            ok = false;
        }
        ok.then_some(Self {
            treatment_type,
            procedure,
            performed_at,
            treated_areas: treated_areas?,
            products,
            injection_points,
            technique,
            practitioner_id,
            external_practitioner,
            consent_id,
            aftercare,
            follow_up_date,
            outcome,
        })
    }
}

/// A type whose procedures the rules tell apart names one, and the procedure named is of the type.
pub fn procedure_fits(form: &Form<'_>, treatment_type: TreatmentType, procedure: Option<&ProcedureId>) -> bool {
    let catalogued = procedure.and_then(|p| RULES.procedure(&p.0));
    match catalogued {
        Some(p) if p.treatment_type != treatment_type => {
            let why = format!("is a {} procedure, not {treatment_type}", p.treatment_type);
            form.reject("procedure", Issue::Rule(why));
            false
        }
        None if treatment_type.names_its_procedure() && !form.given("procedure") => {
            let why = format!("is required for {treatment_type}: the rules tell its procedures apart");
            form.reject("procedure", Issue::Rule(why));
            false
        }
        _ => true,
    }
}

/// Each point names an existing product, and the points never use more of a product than was recorded.
fn check_points(form: &Form<'_>, products: &[ProductUse], points: &[InjectionPoint]) -> bool {
    let mut ok = true;
    let mut used = vec![0.0; products.len()];
    for (i, point) in points.iter().enumerate() {
        let Some(index) = point.product_index else { continue };
        match products.get(index) {
            None => {
                form.reject(
                    &format!("injectionPoints[{i}].productIndex"),
                    Issue::Rule("names no product of this treatment".into()),
                );
                ok = false;
            }
            Some(product) if product.quantity.unit == point.amount.unit => used[index] += point.amount.value,
            Some(product) => {
                let message = format!("must be in {}, the unit of the product it names", product.quantity.unit);
                form.reject(&format!("injectionPoints[{i}].amount.unit"), Issue::Rule(message));
                ok = false;
            }
        }
    }
    for (index, (product, total)) in products.iter().zip(used).enumerate() {
        if total > product.quantity.value + 1e-9 {
            let message = format!(
                "the injection points use {total} {} of this product, more than the {} {} recorded",
                product.quantity.unit, product.quantity.value, product.quantity.unit
            );
            form.reject(&format!("products[{index}].quantity"), Issue::Rule(message));
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::Errors;
    use serde_json::{Value, json};

    fn read(body: Value) -> (Option<Treatment>, Vec<String>) {
        let errors = Errors::default();
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-15T12:00:00Z").unwrap().to_utc();
        let t = Form::root(&body, &errors, Context::at(now)).and_then(|f| Treatment::read(&f));
        (t, errors.into_vec().into_iter().map(|e| e.field).collect())
    }

    fn toxin(expiry: &str) -> Value {
        json!({
            "type": "neurotoxin",
            "performedAt": "2026-06-15T10:00:00Z",
            "treatedAreas": ["glabella"],
            "products": [{"product": "Botox", "manufacturer": "Allergan", "lotNumber": "C1234 AB",
                          "expiryDate": expiry, "quantity": {"value": 20, "unit": "units"}}],
            "injectionPoints": [
                {"diagram": "face-front", "x": 0.5, "y": 0.3, "amount": {"value": 12, "unit": "units"}, "productIndex": 0},
                {"diagram": "face-front", "x": 0.45, "y": 0.31, "amount": {"value": 8, "unit": "units"}, "productIndex": 0},
            ],
        })
    }

    #[test]
    fn a_treatment_with_a_product_in_date_is_accepted() {
        let (t, errors) = read(toxin("2026-06-15"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(t.unwrap().products[0].lot_number.folded(), "C1234AB");
    }

    #[test]
    fn an_expired_product_is_refused() {
        let (t, errors) = read(toxin("2026-06-14"));
        assert!(t.is_none());
        assert_eq!(errors, ["products[0].expiryDate"]);
    }

    #[test]
    fn points_cannot_use_more_than_the_product_or_name_a_missing_one() {
        let mut body = toxin("2027-01-01");
        body["injectionPoints"][0]["amount"]["value"] = json!(13);
        body["injectionPoints"][1]["productIndex"] = json!(3);
        let (_, errors) = read(body.clone());
        assert_eq!(errors, ["injectionPoints[1].productIndex"]);
        body["injectionPoints"][1]["productIndex"] = json!(0);
        let (_, errors) = read(body);
        assert_eq!(errors, ["products[0].quantity"]);
    }

    #[test]
    fn an_injectable_needs_its_product_and_lot() {
        let mut body = toxin("2027-01-01");
        body["products"] = json!([]);
        body["injectionPoints"] = json!([]);
        let (_, errors) = read(body);
        assert_eq!(errors, ["products"]);
    }
}
