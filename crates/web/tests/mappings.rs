//! Issue 14.3: mappings in the browser. A sample of a distributor's own file is
//! previewed (its first rows, the header row found), columns are picked, the canonical
//! rows are shown (the real engine), the mapping is saved through the same app function
//! as `backstock mapping add` (so the CLI's list shows it, and the Import page offers
//! it), and a file imported with it records the statement. A bad choice is explained
//! with the file's line and column; only owners, staff and bookkeepers may build one.

use crate::common;
use common::*;

/// Northwind's own layout: a header block, then one line per product, a TOTAL line.
const NORTHWIND: &str = "Statement No:,NW-2016-03\n\
Statement Period:,03/01/2016 - 03/31/2016\n\
Currency:,USD\n\
\n\
UPC,Title,Type,Units,Net $\n\
859712000019,Harbor Lights,Sale,10,80.00\n\
859712000019,Harbor Lights,Return,1,8.00\n\
TOTAL,,,9,72.00\n";

fn hidden_sample(html: &str) -> String {
    let i = html
        .find("name=\"sample\" value=\"")
        .expect("the sample id")
        + 21;
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_is_previewed_mapped_saved_and_imported_with() {
    let s = start(|_| {}).await;
    let bk = s.login("bookkeeper@alpha.test").await;

    // The page lists the shipped mappings and takes a sample.
    let r = s.get("/t/alpha/mappings", Some(&bk)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"mappings-list\"") && r.body.contains("indie-dist-us"));
    assert!(r.body.contains("id=\"nav-mappings\""));

    // 1. The sample's first rows, the header row found under the header block, and
    //    the defaults guessed from it give canonical rows at once.
    let r = s
        .post(
            "/t/alpha/mappings/preview",
            &bk,
            &mp(),
            &multipart(&[], Some(("Northwind March.csv", NORTHWIND.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sample_table = r.body.split("id=\"sample-rows\"").nth(1).expect("rows");
    assert!(sample_table.contains("Statement No:") && sample_table.contains("Harbor Lights"));
    let header = r
        .body
        .split("id=\"sample-header\"")
        .nth(1)
        .expect("header row");
    let header = &header[..header.find("</tr>").unwrap()];
    assert!(header.contains("<th>UPC</th>"), "{header}");
    // The header row is numbered as the engine numbers it (the csv reader's record
    // positions), so the number shown is the one the mapping needs.
    let n = header
        .split("<td>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(
        r.body.contains(&format!("Header row: line {n} ")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"northwind-march\""),
        "name from the file"
    );
    assert!(!r.body.contains("id=\"mapping-errors\""), "{}", r.body);
    let rows = r
        .body
        .split("id=\"mapping-rows\"")
        .nth(1)
        .expect("canonical rows");
    let rows = &rows[..rows.find("</table>").unwrap()];
    for want in [
        "NW-2016-03",
        "2016-03-01",
        "2016-03-31",
        "sale",
        "return",
        "80.00",
    ] {
        assert!(rows.contains(want), "{want}: {rows}");
    }
    assert!(!rows.contains("TOTAL"), "the footer ends the data: {rows}");
    let sample = hidden_sample(&r.body);

    // 2. Picking columns through the API (the same sample by its id): the memo and a
    //    net sign change the rows the engine gives.
    let r = s
        .post(
            "/api/v1/t/alpha/mappings/preview",
            &bk,
            &mp(),
            &multipart(
                &[
                    ("sample", &sample),
                    ("name", "northwind-csv"),
                    ("memo", "Title"),
                    ("issued_on_from", "value"),
                    ("issued_on", "2016-04-05"),
                ],
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["ok"], true, "{j}");
    let upc_line = j["sample_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][0] == "UPC")
        .unwrap()["line"]
        .clone();
    assert_eq!(j["header_row"], upc_line);
    assert_eq!(j["columns"][0], "UPC");
    assert!(j["sample_rows"].as_array().unwrap().len() <= 20);
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{j}");
    assert_eq!(rows[0]["line"], 6);
    assert_eq!(rows[0]["memo"], "Harbor Lights");
    assert_eq!(rows[0]["issued_on"], "2016-04-05");
    assert_eq!(rows[1]["kind"], "return");
    assert_eq!(rows[1]["units"], "1");
    assert!(j["toml"]
        .as_str()
        .unwrap()
        .contains("after = \"Statement No:\""));

    // 3. Saved from the page: the same function as `backstock mapping add`, audited.
    let r = s
        .post(
            "/t/alpha/mappings",
            &bk,
            &mp(),
            &multipart(
                &[
                    ("sample", &sample),
                    ("name", "northwind-csv"),
                    ("memo", "Title"),
                ],
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"mapping-result\""), "{}", r.body);
    assert!(r.body.contains("Saved mapping northwind-csv"), "{}", r.body);
    assert!(
        r.body.contains("Given at import: distributor, issued_on"),
        "{}",
        r.body
    );
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    let list = backstock_app::mapping::list(&store).await.unwrap();
    let line = list
        .lines()
        .find(|l| l.contains("northwind-csv"))
        .unwrap_or_else(|| panic!("backstock mapping list: {list}"));
    assert!(line.contains("csv") && line.contains("saved"), "{line}");
    let shown = backstock_app::mapping::show(&store, "northwind-csv")
        .await
        .unwrap();
    assert!(shown.contains("Statement No:"), "{shown}");
    drop(store);
    let audit = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "mapping_saved"
        && a.detail.starts_with("northwind-csv")
        && a.actor == "bookkeeper@alpha.test"));
    let r = s.get("/api/v1/t/alpha/mappings", Some(&bk)).await;
    assert!(r.json()["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "northwind-csv" && m["source"] == "saved"));

    // 4. The Import page offers it; a file imported with it records the statement.
    let r = s.get("/t/alpha/import", Some(&bk)).await;
    assert!(
        r.body.contains("<option value=\"northwind-csv\">"),
        "{}",
        r.body
    );
    let n0 = entries(&s).await;
    let r = s
        .post(
            "/t/alpha/import",
            &bk,
            &mp(),
            &multipart(
                &[
                    ("mapping", "northwind-csv"),
                    ("distributor", "northwind"),
                    ("issued_on", "2016-04-05"),
                ],
                Some(("nw-march.csv", NORTHWIND.as_bytes())),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("upload-errors"), "{}", r.body);
    assert!(
        r.body.contains("statement:northwind:NW-2016-03"),
        "{}",
        r.body
    );
    let c = r
        .body
        .split("action=\"")
        .find(|x| x.contains("/confirm\""))
        .expect("a confirm form");
    let confirm = c[..c.find('"').unwrap()].to_string();
    let r = s.post_form(&confirm, &bk, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(entries(&s).await, n0 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_choice_is_explained_and_only_label_staff_build_mappings() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let preview = |fields: Vec<(&'static str, &'static str)>| {
        let s = &s;
        let owner = owner.clone();
        async move {
            s.post(
                "/api/v1/t/alpha/mappings/preview",
                &owner,
                &mp(),
                &multipart(&fields, Some(("nw.csv", NORTHWIND.as_bytes()))),
            )
            .await
        }
    };
    // The amount read from the title column: the engine's message, located.
    let r = preview(vec![("amount", "Title")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["ok"], false);
    let errors: Vec<String> = j["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e
                .starts_with("nw.csv:line 6, column 2 (Title): found \"Harbor Lights\", expected")),
        "{errors:?}"
    );
    // Dates in another format than the file's.
    let r = preview(vec![("date_format", "%d.%m.%Y")]).await;
    let j = r.json();
    assert!(
        j["errors"].as_array().unwrap().iter().any(|e| {
            let e = e.as_str().unwrap();
            e.contains("line 2") && e.contains("03/01/2016")
        }),
        "{j}"
    );
    // No SKU column: the mapping itself is refused, naming the form's field.
    let r = preview(vec![("sku", "")]).await;
    let j = r.json();
    assert!(
        j["mapping_error"]
            .as_str()
            .unwrap_or("")
            .starts_with("SKU/UPC column: mapping key `columns.sku`"),
        "{j}"
    );
    let sample = j["sample"].as_str().unwrap().to_string();
    // Saving it is refused with the same reason; nothing is saved or audited.
    let r = s
        .post(
            "/api/v1/t/alpha/mappings",
            &owner,
            "application/json",
            serde_json::json!({"sample": sample, "name": "broken", "sku": ""})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SKU/UPC column"));
    let r = s
        .post(
            "/t/alpha/mappings",
            &owner,
            &mp(),
            &multipart(
                &[("sample", &sample), ("name", "broken"), ("sku", "")],
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"mapping-refused\"") && r.body.contains("SKU/UPC column"));
    let r = s.get("/api/v1/t/alpha/mappings", Some(&owner)).await;
    assert!(!r.body.contains("broken"), "{}", r.body);
    // A whole TOML through the API, as `mapping add` takes it.
    let toml = backstock_mapping::builtin()[1]
        .1
        .replace("indie-dist-us", "my-indie");
    let r = s
        .post(
            "/api/v1/t/alpha/mappings",
            &owner,
            "application/json",
            serde_json::json!({ "toml": toml }).to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["saved"]["name"], "my-indie");
    // Another member's sample id is not found.
    let staff = s.login("staff@alpha.test").await;
    let r = s
        .post(
            "/api/v1/t/alpha/mappings/preview",
            &staff,
            &mp(),
            &multipart(&[("sample", &sample)], None),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Roles: owner, staff, bookkeeper; not an artist or a distributor.
    for (who, ok) in [
        ("staff@alpha.test", true),
        ("bookkeeper@alpha.test", true),
        ("artist@alpha.test", false),
        ("distributor@alpha.test", false),
    ] {
        let me = s.login(who).await;
        let r = s.get("/t/alpha/mappings", Some(&me)).await;
        assert_eq!(r.status == 200, ok, "{who}: {}", r.status);
        let r = s
            .post(
                "/api/v1/t/alpha/mappings/preview",
                &me,
                &mp(),
                &multipart(&[], Some(("nw.csv", NORTHWIND.as_bytes()))),
            )
            .await;
        assert_eq!(r.status, if ok { 200 } else { 403 }, "{who}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_separator_keeps_its_spaces_through_the_builder() {
    let s = start(|_| {}).await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let iso = NORTHWIND.replace("03/01/2016 - 03/31/2016", "2016-03-01 - 2016-03-31");
    let r = s
        .post(
            "/t/alpha/mappings/preview",
            &bk,
            &mp(),
            &multipart(&[], Some(("nw-iso.csv", iso.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(r#"name="period_split" value=" - ""#),
        "{}",
        r.body
    );
    let sample = hidden_sample(&r.body);
    // The builder's form sent back as a browser sends it: the separator with its spaces.
    let r = s
        .post(
            "/api/v1/t/alpha/mappings/preview",
            &bk,
            &mp(),
            &multipart(
                &[
                    ("sample", &sample),
                    ("name", "nw-iso"),
                    ("period_start_from", "after"),
                    ("period_start", "Statement Period:"),
                    ("period_end_from", "after"),
                    ("period_end", "Statement Period:"),
                    ("period_split", " - "),
                    ("issued_on_from", "value"),
                    ("issued_on", "2016-04-05"),
                ],
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["fields"]["period_split"], " - ", "{j}");
    assert!(
        j["toml"]
            .as_str()
            .unwrap_or("")
            .contains(r#"split = " - ""#),
        "{j}"
    );
}
