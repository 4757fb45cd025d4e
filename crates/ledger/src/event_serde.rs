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
                    "fact" => return read_fact(map).map(Event::Fact),
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

/// The rest of a fact's object (after `"event": "fact"`). A fact is itself tagged
/// (`"fact": "catalog_item"`, …) and serde's derived reader would buffer it as above:
/// when the next key is that tag and names one of the numerous facts (a label has one
/// per catalog item, payee and contract version), the rest is read straight into its
/// struct; anything else is collected and handed to the derived reader of [`Fact`].
fn read_fact<'de, A: MapAccess<'de>>(mut map: A) -> Result<Fact, A::Error> {
    use crate::facts::{
        Agreement, CatalogItem, PartyRecord, PayeeRecord, RoyaltyContract, RoyaltyCost,
        UnmatchedLine,
    };
    fn rest<'de, T: Deserialize<'de>, A: MapAccess<'de>>(map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
    let mut fields = Map::new();
    match map.next_key::<String>()? {
        Some(key) if key == "fact" => {
            let tag: String = map.next_value()?;
            match tag.as_str() {
                "catalog_item" => return rest::<CatalogItem, _>(map).map(Fact::CatalogItem),
                "payee" => return rest::<PayeeRecord, _>(map).map(Fact::Payee),
                "royalty_contract" => {
                    return rest::<RoyaltyContract, _>(map).map(Fact::RoyaltyContract)
                }
                "royalty_cost" => return rest::<RoyaltyCost, _>(map).map(Fact::RoyaltyCost),
                "party" => return rest::<PartyRecord, _>(map).map(Fact::Party),
                "agreement" => return rest::<Agreement, _>(map).map(Fact::Agreement),
                "unmatched" => return rest::<UnmatchedLine, _>(map).map(Fact::Unmatched),
                _ => {
                    fields.insert(key, Value::String(tag));
                }
            }
        }
        Some(key) => {
            let value: Value = map.next_value()?;
            fields.insert(key, value);
        }
        None => {}
    }
    while let Some((key, value)) = map.next_entry::<String, Value>()? {
        fields.insert(key, value);
    }
    Fact::deserialize(Value::Object(fields)).map_err(de::Error::custom)
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
    fn the_numerous_facts_read_directly_and_the_same() {
        for fact in [
            r#"{"event":"fact","fact":"catalog_item","sku":"GEN-000000","upc":"600000000002","title":"Title 0","artist":"Artist 0","format":"LP","release_date":null,"list_price":{"amount_minor":1598,"currency":"USD"},"wholesale_price":{"amount_minor":1150,"currency":"USD"},"unit_cost":{"amount_minor":110,"currency":"USD"}}"#,
            r#"{"event":"fact","fact":"payee","payee":"artist-0","name":"Artist 0","email":"artist0@example.com","address":""}"#,
            r#"{"event":"fact","fact":"royalty_contract","contract_id":"C-0","effective_from":"2015-01-01","title":"Artist 0 catalogue","payees":[{"payee":"artist-0","share":"1"}],"skus":["GEN-000000","GEN-010000"],"basis":"earned","rules":[{"channel":null,"format":null,"base":"net_receipts","rate":"0.15"}],"cross_collateralized":false,"reserve_rate":"0","reserve_release_periods":0,"min_payout":{"amount_minor":0,"currency":"USD"}}"#,
            r#"{"event":"fact","fact":"party","party":"dist0","kind":"distributor","legal_name":"Distributor 0 Inc."}"#,
            r#"{"event":"fact","fact":"agreement","distributor":"dist0","legal_name":"Distributor 0 Inc.","state_of_organization":"DE","agreement_start":"2015-01-01","fee_rate":"0.2","payment_terms_days":90,"statement_frequency":"monthly","reserve_rate":"0.2","reserve_release_days":180,"credit_limit":{"amount_minor":100000000,"currency":"USD"},"currency":"USD","title_retained":true}"#,
            // The fact's tag after another field: collected, then the derived reader.
            r#"{"event":"fact","payee":"artist-0","fact":"payee","name":"Artist 0","email":"","address":""}"#,
        ] {
            same_both_ways(fact);
        }
        // A fact missing a field is refused by both readers.
        let bad = r#"{"event":"fact","fact":"payee","name":"Artist 0"}"#;
        assert!(serde_json::from_str::<crate::events::Event>(bad).is_err());
        let entry_json = format!(
            r#"{{"id":"x:1","effective_on":"2016-03-31","known_on":"2016-04-10","provenance":{{"source":"demo"}},"event":{bad}}}"#
        );
        assert!(serde_json::from_str::<Entry>(&entry_json).is_err());
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
