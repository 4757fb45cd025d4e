//! Issue 19.5: the web preview runs the import's own idempotency checks, so what it
//! says is what the confirm does. Rows already recorded from another file are counted
//! and skipped; rows recorded with other details are refused at the preview.

use crate::common;
use common::*;

const HEADER: &str =
    "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";
const MARCH: &str =
    "ST-ALPHA-2,alphadist,2016-03-01,2016-03-31,2016-04-10,sale,ALP-001-CD,10,80.00,USD,\n";

async fn upload(s: &Server, who: &Session, name: &str, text: &str) -> Resp {
    s.post(
        "/t/alpha/import",
        who,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &multipart(&[], Some((name, text.as_bytes()))),
    )
    .await
}

fn confirm_path(html: &str) -> String {
    let c = html
        .split("action=\"")
        .find(|x| x.contains("/confirm\""))
        .expect("a confirm form");
    c[..c.find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_already_recorded_from_another_file_are_skipped_and_the_confirm_succeeds() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    // February's statement, recorded from feb.csv.
    let r = upload(&s, &owner, "feb.csv", ALPHA_STATEMENT).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.post_form(&confirm_path(&r.body), &owner, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let n0 = entries(&s).await;

    // The distributor re-sends it with March's (a cumulative export).
    let cumulative = format!("{ALPHA_STATEMENT}{MARCH}");
    let r = upload(&s, &owner, "feb-mar.csv", &cumulative).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("id=\"upload-errors\""), "{}", r.body);
    assert!(r.body.contains("1 already recorded"), "{}", r.body);
    assert!(r.body.contains("id=\"upload-skipped\""), "{}", r.body);
    // The entries listed are what would be recorded: March only.
    let table = r.body.split("id=\"upload-entries\"").nth(1).unwrap();
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("ST-ALPHA-2"), "{table}");
    assert!(!table.contains("ST-ALPHA-1"), "{table}");
    assert_eq!(entries(&s).await, n0, "a preview records nothing");
    let r = s.post_form(&confirm_path(&r.body), &owner, &[]).await;
    assert_eq!(
        r.status, 200,
        "the confirm does what the preview said: {}",
        r.body
    );
    assert!(r.body.contains("1 already recorded, 1 new"), "{}", r.body);
    assert_eq!(entries(&s).await, n0 + 1);

    // Through the API: the count and the ids skipped, in JSON.
    let third = format!("{HEADER}{MARCH}\n");
    let token = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"t"}"#,
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let p = request(
        s.addr,
        "POST",
        "/api/v1/t/alpha/imports",
        &[
            ("Authorization", format!("Bearer {token}")),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ],
        &multipart(&[], Some(("mar-again.csv", third.as_bytes()))),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let j = p.json();
    assert_eq!(j["already_recorded"], 1, "{j}");
    assert_eq!(j["entries_total"], 0, "{j}");
    assert_eq!(
        j["already_recorded_ids"][0], "statement:alphadist:ST-ALPHA-2",
        "{j}"
    );
    let id = j["upload_id"].as_str().unwrap();
    let c = request(
        s.addr,
        "POST",
        &format!("/api/v1/t/alpha/imports/{id}/confirm"),
        &[("Authorization", format!("Bearer {token}"))],
        b"",
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(entries(&s).await, n0 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_recorded_with_other_details_are_refused_at_the_preview() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = upload(&s, &owner, "feb.csv", ALPHA_STATEMENT).await;
    let r = s.post_form(&confirm_path(&r.body), &owner, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let changed = ALPHA_STATEMENT.replace("50,400.00", "51,408.00");
    let r = upload(&s, &owner, "feb-changed.csv", &changed).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"upload-errors\""), "{}", r.body);
    assert!(
        r.body.contains("already recorded with different details"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("confirm-submit"));
}

/// Issue 18.7: a payees file's preview lists the rows it would record; the confirm
/// records them. A distributor's upload of one is refused (it is not a statement or a
/// stock report), and nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payees_preview_lists_its_rows_and_a_distributor_may_not_upload_one() {
    let s = start(|_| {}).await;
    let payees = "payee,name,email\nada-wren,Ada Wren,ada@example.com\n";
    let owner = s.login("owner@alpha.test").await;
    let n0 = entries(&s).await;
    let r = upload(&s, &owner, "payees.csv", payees).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let table = r.body.split("id=\"upload-entries\"").nth(1).expect(&r.body);
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("payee:ada-wren"), "{table}");
    assert!(r.body.contains("payee ada-wren: Ada Wren"), "{}", r.body);
    assert_eq!(entries(&s).await, n0, "a preview records nothing");

    let dist = s.login("distributor@alpha.test").await;
    let r = upload(&s, &dist, "payees.csv", payees).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("a distributor may upload only statements and stock reports"),
        "{}",
        r.body
    );
    assert_eq!(entries(&s).await, n0);
    // The kind may be chosen on the form: payees for the label, never for a distributor.
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(
        &[("kind", "payees")],
        Some(("artists.csv", payees.as_bytes())),
    );
    let as_payees = |who| s.post("/t/alpha/import", who, &ct, &body);
    let r = as_payees(&dist).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = as_payees(&owner).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("payee ada-wren: Ada Wren"), "{}", r.body);
    let form = s.get("/t/alpha/import", Some(&owner)).await;
    assert!(
        form.body
            .contains(r#"<option value="payees">payees</option>"#),
        "{}",
        form.body
    );
    assert_eq!(entries(&s).await, n0);

    let r = s
        .post_form(
            &confirm_path(&r_owner_preview(&s, &owner, payees).await),
            &owner,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(entries(&s).await, n0 + 1);
    // Imported now: a distributor is not told so (its upload is refused first), and
    // the owner sees that nothing is left to record — no button to press.
    let r = upload(&s, &dist, "payees.csv", payees).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!r.body.contains("already imported"), "{}", r.body);
    let r = upload(&s, &owner, "payees-once-more.csv", payees).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"nothing-to-record\""), "{}", r.body);
    assert!(!r.body.contains("id=\"confirm-submit\""), "{}", r.body);
}

async fn r_owner_preview(s: &Server, owner: &Session, payees: &str) -> String {
    let r = upload(s, owner, "payees.csv", payees).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_with_an_unknown_code_can_be_held_from_the_import_page() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let form = s.get("/t/alpha/import", Some(&owner)).await;
    assert!(
        form.body.contains(r#"name="hold_unmatched""#),
        "{}",
        form.body
    );
    let text = format!(
        "{HEADER}ST-ALPHA-3,alphadist,2016-03-01,2016-03-31,2016-04-10,sale,ALP-001-CD,10,80.00,USD,\nST-ALPHA-3,alphadist,2016-03-01,2016-03-31,2016-04-10,sale,NW-ITEM-99,2,16.00,USD,\n"
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    // Without the box: refused, saying the box is there.
    let r = s
        .post(
            "/t/alpha/import",
            &owner,
            &ct,
            &multipart(&[], Some(("apr.csv", text.as_bytes()))),
        )
        .await;
    assert!(
        plain(&r.body).contains("the Import page's Hold box"),
        "{}",
        r.body
    );
    // With it: previewed, confirmed, and the line waits on the Record page.
    let r = s
        .post(
            "/t/alpha/import",
            &owner,
            &ct,
            &multipart(
                &[("hold_unmatched", "on")],
                Some(("apr.csv", text.as_bytes())),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = s
        .post_form(
            &confirm_path(&r.body),
            &owner,
            &[("csrf", owner.csrf.as_str())],
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let rec = s.get("/t/alpha/record", Some(&owner)).await;
    let queue = rec
        .body
        .split("id=\"table-unmatched\"")
        .nth(1)
        .unwrap_or("");
    assert!(queue.contains("NW-ITEM-99"), "{}", rec.body);
}
