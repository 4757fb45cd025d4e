use backstock_mapping::*;
#[test]
fn show() {
    for (name, text) in builtin() {
        let m = Mapping::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rt = Mapping::parse(&m.to_toml())
            .unwrap_or_else(|e| panic!("{name} rt: {e}\n{}", m.to_toml()));
        assert_eq!(rt, m);
        if name == "euro-dist-xlsx" {
            continue;
        }
        let data = std::fs::read(format!("tests/data/{name}.csv")).unwrap();
        let o = Overrides {
            distributor: Some("harbor-lane".into()),
            ..Default::default()
        };
        let o = if name == "bandcamp" {
            Overrides::default()
        } else {
            o
        };
        match convert_csv(&m, &data[..], &o) {
            Ok(rows) => {
                for r in &rows {
                    println!("{} {}", r.line, r.fields.join(","));
                }
            }
            Err(es) => {
                for e in es {
                    println!("ERR {e}");
                }
            }
        }
    }
}
