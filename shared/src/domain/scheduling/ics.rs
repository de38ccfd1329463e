//! iCalendar (RFC 5545) text for a staff member's calendar feed: one `VEVENT` per appointment, times in
//! UTC, text escaped and lines folded at 75 octets, CRLF line ends.

use chrono::{DateTime, Utc};

/// One appointment as a feed shows it: never a patient's name (initials at most).
pub struct FeedEvent {
    /// Stable across changes, so a calendar app updates the event in place.
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub location: Option<String>,
    /// RFC 5545 status: `CONFIRMED` or `TENTATIVE`.
    pub status: &'static str,
    /// How many times it changed (the appointment's version), so apps take the newest.
    pub sequence: u64,
}

fn stamp(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value, escaped (RFC 5545 §3.3.11): backslash, semicolon, comma, and line breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (never inside a UTF-8 character), each continuation led by a space.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let size = c.len_utf8();
        if width + size > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += size;
    }
    out.push_str("\r\n");
    out
}

/// The whole calendar: its name, and its events as of `now` (each event's `DTSTAMP`).
pub fn calendar(name: &str, events: &[FeedEvent], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Vellum//Calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        out.push_str(&fold(line));
    }
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", escape(name))));
    // Calendar apps that honour it poll every 15 minutes.
    out.push_str(&fold("REFRESH-INTERVAL;VALUE=DURATION:PT15M"));
    out.push_str(&fold("X-PUBLISHED-TTL:PT15M"));
    for event in events {
        out.push_str(&fold("BEGIN:VEVENT"));
        out.push_str(&fold(&format!("UID:{}", escape(&event.uid))));
        out.push_str(&fold(&format!("DTSTAMP:{}", stamp(now))));
        out.push_str(&fold(&format!("DTSTART:{}", stamp(event.start))));
        out.push_str(&fold(&format!("DTEND:{}", stamp(event.end))));
        out.push_str(&fold(&format!("SUMMARY:{}", escape(&event.summary))));
        if let Some(location) = &event.location {
            out.push_str(&fold(&format!("LOCATION:{}", escape(location))));
        }
        out.push_str(&fold(&format!("STATUS:{}", event.status)));
        out.push_str(&fold(&format!("SEQUENCE:{}", event.sequence)));
        out.push_str(&fold("CLASS:PRIVATE"));
        out.push_str(&fold("TRANSP:OPAQUE"));
        out.push_str(&fold("END:VEVENT"));
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_without_splitting_a_character() {
        assert_eq!(escape("Peel; face, neck\\back\nroom"), "Peel\\; face\\, neck\\\\back\\nroom");
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&long);
        for line in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
    }

    #[test]
    fn a_calendar_has_one_event_per_appointment_in_utc_with_crlf_lines() {
        let start: DateTime<Utc> = "2027-01-11T18:00:00Z".parse().unwrap();
        let event = FeedEvent {
            uid: "01J@vellum".into(),
            start,
            end: start + chrono::Duration::minutes(60),
            summary: "Lip filler – A.Q.".into(),
            location: Some("Room 1".into()),
            status: "CONFIRMED",
            sequence: 2,
        };
        let text = calendar("Glow", &[event], start);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.contains("\r\nDTSTART:20270111T180000Z\r\nDTEND:20270111T190000Z\r\n"));
        assert!(text.contains("\r\nSUMMARY:Lip filler – A.Q.\r\n"));
        assert!(text.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }
}
