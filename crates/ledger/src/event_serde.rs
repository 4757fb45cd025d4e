//! Reading an [`Event`] without buffering a large one.
//!
//! `Event` is an internally tagged enum (`{"event": "statement", …}`). serde's derived
//! reader for such an enum cannot know the variant until it has seen the tag, so it
//! first copies the whole object into an in-memory tree and then reads the variant from
//! that tree: for a statement of a million lines that is a million small maps built and
//! thrown away, the largest single cost of reading a label's journal (issue 15).
//!
//! The writer always puts the tag first (serde's derived writer does), so this reader
//! looks at the first key: when it is the tag of one of the large variants
//! ([`Event::Statement`], [`Event::RoyaltyRun`]) or a fact ([`Event::Fact`], the
//! most numerous), the rest of the object is read
//! straight into that variant's struct. Any other variant, or an object whose first
//! key is not the tag, is collected into a `serde_json::Value` and handed to the
//! derived reader, so every event reads exactly as before — the tests below compare
//! both readers on every kind of event.

use crate::events::{Event, RoyaltyRun, Statement};
use crate::facts::Fact;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

const TAG: &str = "event";

/// `#[serde(deserialize_with)]` for `Entry::event`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
    d.deserialize_map(EventVisitor)
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event: an object with an \"event\" tag")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut rest = Map::new();
        match map.next_key::<String>()? {
            Some(key) if key == TAG => {
                let tag: String = map.next_value()?;
                match tag.as_str() {
                    "statement" => {
                        return Statement::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map(Event::Statement);
                    }
                    // A fact is itself tagged (`"fact": "catalog_item"`, …): its own
                    // reader takes the rest of the object (a label has one per catalog
                    // item, payee and contract — the most numerous entries after lines).
                    "fact" => {
                        return Fact::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map(Event::Fact);
                    }
                    "royalty_run" => {
                        return RoyaltyRun::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map(Event::RoyaltyRun);
                    }
                    _ => {
                        rest.insert(key, Value::String(tag));
                    }
                }
            }
            Some(key) => {
                let value: Value = map.next_value()?;
                rest.insert(key, value);
            }
            None => {}
        }
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            rest.insert(key, value);
        }
        Event::deserialize(Value::Object(rest)).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::events::Entry;
    use serde_json::Value;

    /// Each event of the demo-like set below reads the same through `Entry` (this
    /// reader) as through the derived reader of `Event` alone.
    fn same_both_ways(event_json: &str) {
        let entry_json = format!(
            r#"{{"id":"x:1","effective_on":"2016-03-31","known_on":"2016-04-10","provenance":{{"source":"demo"}},"event":{event_json}}}"#
        );
        let fast: Entry = serde_json::from_str(&entry_json).expect("entry reads");
        let derived: crate::events::Event =
            serde_json::from_str(event_json).expect("event reads through the derived reader");
        assert_eq!(fast.event, derived, "{event_json}");
        // And back: what is written reads again the same way.
        let again: Entry =
            serde_json::from_str(&serde_json::to_string(&fast).unwrap()).expect("rereads");
        assert_eq!(again, fast);
    }

    #[test]
    fn statements_read_directly_and_the_same() {
        same_both_ways(
            r#"{"event":"statement","statement_id":"S-1","distributor":"allegro","period_start":"2016-03-01","period_end":"2016-03-31","issued_on":"2016-04-10","currency":"USD","lines":[{"kind":"sale","sku":"MRG-001-CD","units":5,"amount_minor":4995},{"kind":"fee","sku":null,"units":0,"amount_minor":100},{"kind":"sale","sku":"MRG-002-DL","units":0,"amount_minor":99,"channel":"digital"}]}"#,
        );
    }

    #[test]
    fn facts_read_directly_and_the_same() {
        same_both_ways(
            r#"{"event":"fact","fact":"alias","code":"0123456789012","sku":"MRG-001-CD"}"#,
        );
    }

    #[test]
    fn other_events_and_tag_not_first_read_as_before() {
        same_both_ways(
            r#"{"event":"payment_received","payment_id":"P-1","distributor":"allegro","amount":{"amount_minor":1000,"currency":"USD"},"statement_id":null}"#,
        );
        // The tag later in the object (not what the writer does, but a valid body).
        same_both_ways(
            r#"{"payment_id":"P-1","distributor":"allegro","event":"payment_received","amount":{"amount_minor":1000,"currency":"USD"},"statement_id":"S-1"}"#,
        );
        same_both_ways(
            r#"{"distributor":"allegro","event":"statement","statement_id":"S-1","period_start":"2016-03-01","period_end":"2016-03-31","issued_on":"2016-04-10","currency":"USD","lines":[]}"#,
        );
    }

    #[test]
    fn bad_events_are_refused_not_guessed() {
        for bad in [
            r#"{"event":"no_such_event"}"#,
            r#"{"event":"statement","statement_id":"S-1"}"#,
            r#"{"statement_id":"S-1"}"#,
            r#"{}"#,
            r#"[1]"#,
        ] {
            let entry_json = format!(
                r#"{{"id":"x:1","effective_on":"2016-03-31","known_on":"2016-04-10","provenance":{{"source":"demo"}},"event":{bad}}}"#
            );
            assert!(
                serde_json::from_str::<Entry>(&entry_json).is_err(),
                "{bad} was read"
            );
            let _: Value = serde_json::from_str(bad).unwrap();
        }
    }
}
