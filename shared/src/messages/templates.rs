//! The words of each message, per language. A message carries a first name, the clinic's name, a time and
//! a link at most: never a service, a treatment or anything else from the chart.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::Channel;

crate::string_enum! {
    /// The languages messages are written in.
    Language {
        En = "en",
        Sv = "sv",
        Es = "es",
    }
}

impl Language {
    /// The language of a BCP 47 tag (`es-MX` → Spanish), when messages are written in it.
    pub fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
        Language::ALL.iter().copied().find(|l| l.as_str() == primary)
    }
}

crate::string_enum! {
    /// What a message is for.
    Template {
        Invitation = "invitation",
        Reminder = "reminder",
        BookingHeld = "booking-held",
        BookingConfirmed = "booking-confirmed",
        SpendNearCap = "spend-near-cap",
        SpendAtCap = "spend-at-cap",
        SpendAtHardCap = "spend-at-hard-cap",
    }
}

impl Template {
    /// Whether its message carries a link (a booking's confirmation may: its forms).
    pub fn has_link(self) -> bool {
        matches!(self, Template::Invitation | Template::BookingHeld | Template::BookingConfirmed)
    }
}

/// What a template is filled with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub first_name: String,
    pub clinic_name: String,
    /// The appointment's local time, written out in the message's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// A sum of money, written out (`$500`): a notice to a clinic's administrators about its spend cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// `time` on the clinic's wall clock, written out: "Tuesday 8 December at 14:30".
pub fn spell_time(time: DateTime<Utc>, zone: chrono_tz::Tz, language: Language) -> String {
    let local = time.with_timezone(&zone);
    let (weekday, month) = (local.weekday().num_days_from_monday() as usize, local.month0() as usize);
    let clock = format!("{:02}:{:02}", local.hour(), local.minute());
    match language {
        Language::En => {
            const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
            const MONTHS: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            format!("{} {} {} at {clock}", DAYS[weekday], local.day(), MONTHS[month])
        }
        Language::Sv => {
            const DAYS: [&str; 7] = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"];
            const MONTHS: [&str; 12] = [
                "januari",
                "februari",
                "mars",
                "april",
                "maj",
                "juni",
                "juli",
                "augusti",
                "september",
                "oktober",
                "november",
                "december",
            ];
            format!("{} {} {} kl. {clock}", DAYS[weekday], local.day(), MONTHS[month])
        }
        Language::Es => {
            const DAYS: [&str; 7] = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"];
            const MONTHS: [&str; 12] = [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ];
            format!("{} {} de {} a las {clock}", DAYS[weekday], local.day(), MONTHS[month])
        }
    }
}

/// The subject and text of a message. A text message is the text alone, so it is kept short.
pub fn render(
    template: Template,
    language: Language,
    channel: Channel,
    values: &Values,
    link: Option<&str>,
) -> (String, String) {
    let (name, clinic) = (values.first_name.as_str(), values.clinic_name.as_str());
    let when = values.when.as_deref().unwrap_or_default();
    let link = link.unwrap_or_default();
    let amount = values.amount.as_deref().unwrap_or_default();
    let (subject, line) = match (template, language) {
        (Template::Invitation, Language::En) => (
            format!("{clinic}: your forms before your visit"),
            format!("Hello {name}, {clinic} asks you to fill in a few forms before your visit: {link}"),
        ),
        (Template::Invitation, Language::Sv) => (
            format!("{clinic}: formulär inför ditt besök"),
            format!("Hej {name}! {clinic} ber dig fylla i några formulär inför ditt besök: {link}"),
        ),
        (Template::Invitation, Language::Es) => (
            format!("{clinic}: sus formularios antes de la visita"),
            format!("Hola {name}: {clinic} le pide que complete unos formularios antes de su visita: {link}"),
        ),
        (Template::Reminder, Language::En) => (
            format!("{clinic}: see you {when}"),
            format!("Hello {name}, a reminder of your appointment at {clinic} on {when}."),
        ),
        (Template::Reminder, Language::Sv) => (
            format!("{clinic}: välkommen {when}"),
            format!("Hej {name}! En påminnelse om din tid hos {clinic} {when}."),
        ),
        (Template::Reminder, Language::Es) => (
            format!("{clinic}: le esperamos el {when}"),
            format!("Hola {name}: le recordamos su cita en {clinic} el {when}."),
        ),
        (Template::BookingHeld, Language::En) => (
            format!("{clinic}: confirm your booking"),
            format!(
                "Hello {name}, {clinic} is holding {when} for you. Open this link within 15 minutes to confirm: {link}"
            ),
        ),
        (Template::BookingHeld, Language::Sv) => (
            format!("{clinic}: bekräfta din bokning"),
            format!("Hej {name}! {clinic} håller {when} åt dig. Öppna länken inom 15 minuter för att bekräfta: {link}"),
        ),
        (Template::BookingHeld, Language::Es) => (
            format!("{clinic}: confirme su reserva"),
            format!(
                "Hola {name}: {clinic} le reserva el {when}. Abra este enlace en los próximos 15 minutos para confirmar: {link}"
            ),
        ),
        (Template::BookingConfirmed, Language::En) => (
            format!("{clinic}: your appointment on {when}"),
            format!("Hello {name}, your appointment at {clinic} on {when} is booked.")
                + &forms_line(link, "Please fill in these forms before your visit: "),
        ),
        (Template::BookingConfirmed, Language::Sv) => (
            format!("{clinic}: din tid {when}"),
            format!("Hej {name}! Din tid hos {clinic} {when} är bokad.")
                + &forms_line(link, "Fyll gärna i formulären före besöket: "),
        ),
        (Template::BookingConfirmed, Language::Es) => (
            format!("{clinic}: su cita el {when}"),
            format!("Hola {name}: su cita en {clinic} el {when} está reservada.")
                + &forms_line(link, "Complete estos formularios antes de su visita: "),
        ),
        (Template::SpendNearCap, Language::En) => (
            format!("{clinic}: 80% of this month's spending cap used"),
            format!(
                "Hello {name}, {clinic} has used 80% of this month's spending cap of {amount} in Vellum. Usage shows what it went on."
            ),
        ),
        (Template::SpendNearCap, Language::Sv) => (
            format!("{clinic}: 80 % av månadens kostnadstak använt"),
            format!(
                "Hej {name}! {clinic} har använt 80 % av månadens kostnadstak på {amount} i Vellum. Under Användning syns vad det gick till."
            ),
        ),
        (Template::SpendNearCap, Language::Es) => (
            format!("{clinic}: 80 % del límite de gasto del mes"),
            format!(
                "Hola {name}: {clinic} ha usado el 80 % del límite de gasto de este mes, {amount}, en Vellum. En Uso verá en qué se fue."
            ),
        ),
        (Template::SpendAtCap, Language::En) => (
            format!("{clinic}: this month's spending cap reached"),
            format!(
                "Hello {name}, {clinic} has reached this month's spending cap of {amount} in Vellum. Vellum goes on serving the clinic; use beyond the cap is billed as usual."
            ),
        ),
        (Template::SpendAtCap, Language::Sv) => (
            format!("{clinic}: månadens kostnadstak nått"),
            format!(
                "Hej {name}! {clinic} har nått månadens kostnadstak på {amount} i Vellum. Vellum fortsätter som vanligt; det som går över taket debiteras som vanligt."
            ),
        ),
        (Template::SpendAtCap, Language::Es) => (
            format!("{clinic}: alcanzado el límite de gasto del mes"),
            format!(
                "Hola {name}: {clinic} ha alcanzado el límite de gasto de este mes, {amount}, en Vellum. Vellum sigue funcionando; el uso por encima del límite se factura como siempre."
            ),
        ),
        (Template::SpendAtHardCap, Language::En) => (
            format!("{clinic}: this month's spending cap reached"),
            format!(
                "Hello {name}, {clinic} has reached this month's spending cap of {amount} in Vellum. Until the month ends or the cap is raised, Vellum refuses changes other than to the chart; charts stay open to read and write."
            ),
        ),
        (Template::SpendAtHardCap, Language::Sv) => (
            format!("{clinic}: månadens kostnadstak nått"),
            format!(
                "Hej {name}! {clinic} har nått månadens kostnadstak på {amount} i Vellum. Tills månaden är slut eller taket höjs tar Vellum inte emot andra ändringar än i journalen; journalerna går att läsa och skriva i."
            ),
        ),
        (Template::SpendAtHardCap, Language::Es) => (
            format!("{clinic}: alcanzado el límite de gasto del mes"),
            format!(
                "Hola {name}: {clinic} ha alcanzado el límite de gasto de este mes, {amount}, en Vellum. Hasta que termine el mes o se suba el límite, Vellum no acepta cambios salvo en la historia clínica, que sigue abierta para leer y escribir."
            ),
        ),
    };
    let text = match channel {
        Channel::Email => format!("{line}\n\n{clinic}\n"),
        Channel::Sms => line,
    };
    (subject, text)
}

fn forms_line(link: &str, lead: &str) -> String {
    if link.is_empty() { String::new() } else { format!(" {lead}{link}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_written_on_the_clinic_s_wall_clock_in_its_language() {
        let time: DateTime<Utc> = "2026-12-08T13:30:00Z".parse().expect("time");
        let stockholm = chrono_tz::Europe::Stockholm;
        assert_eq!(spell_time(time, stockholm, Language::En), "Tuesday 8 December at 14:30");
        assert_eq!(spell_time(time, stockholm, Language::Sv), "tisdag 8 december kl. 14:30");
        assert_eq!(spell_time(time, stockholm, Language::Es), "martes 8 de diciembre a las 14:30");
    }

    #[test]
    fn a_language_tag_picks_its_language_or_none() {
        assert_eq!(Language::of_tag("es-MX"), Some(Language::Es));
        assert_eq!(Language::of_tag("SV"), Some(Language::Sv));
        assert_eq!(Language::of_tag("fr"), None);
    }

    #[test]
    fn every_template_names_the_clinic_and_carries_its_link() {
        let values = Values {
            first_name: "Ada".into(),
            clinic_name: "Glow".into(),
            when: Some("Monday".into()),
            amount: Some("$500".into()),
        };
        for &template in Template::ALL {
            for &language in Language::ALL {
                let link = template.has_link().then_some("https://x.test/l/abc");
                let (subject, text) = render(template, language, Channel::Sms, &values, link);
                assert!(
                    subject.contains("Glow") && text.contains("Glow") && text.contains("Ada"),
                    "{template} {language}"
                );
                assert_eq!(text.contains("https://x.test/l/abc"), link.is_some(), "{template} {language}");
            }
        }
    }
}
