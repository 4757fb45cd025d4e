#!/usr/bin/env node
// Browser tests of `backstock serve --demo` in real headless Chromium (Debian's
// `chromium`, driven by playwright-core; no browser is ever downloaded).
//
//   node tests/browser/run.mjs --bin target/debug/backstock [--chromium /usr/bin/chromium]
//
// Starts the server on a free port with a fresh data directory, then, as a user would:
//   1. signs in as the demo owner through the sign-in form;
//   2. reads the dashboard (journal size, Northwind's open balance and stock at wholesale),
//      on the page and in its CSV download;
//   3. uploads a statements CSV on the import page: a broken file shows its error with line
//      and column; a good one shows a preview, records nothing until confirmed, and once
//      confirmed moves the dashboard and the distributor page by exactly the statement;
//   4. downloads a royalty statement PDF from the statements page (`#statement-pdf`);
//   5. signs in as the demo artist: the dashboard is refused (403); their statements page
//      links only their own statements, whose PDF downloads; another artist's statement
//      cannot be opened or downloaded;
//   6. the owner pays the artist on the Payouts page; the artist's Payouts page (their
//      remittance advice) shows the payment with its reference;
//   7. the demo bookkeeper records a payment on the Record page: the dashboard's open
//      balance moves by exactly that amount;
//   8. a newcomer signs up with a new label, invites a bookkeeper on the Users page, and the
//      bookkeeper accepts through the one-time link (used once; the audit log shows it).
// Any failure: a clear message, screenshots of the open pages and the server's log in an
// artifacts directory (printed), exit status 1.

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

// ---- arguments ----

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node run.mjs --bin PATH/TO/backstock [--chromium /usr/bin/chromium] [--headed]');
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = {
  bin: process.env.BACKSTOCK_BIN,
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  headed: false,
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--bin') opts.bin = argv[++i];
  else if (a === '--chromium') opts.chromium = argv[++i];
  else if (a === '--headed') opts.headed = true;
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${JSON.stringify(a)}`);
}
if (!opts.bin) usage('give the backstock binary with --bin (or $BACKSTOCK_BIN)');
opts.bin = resolve(opts.bin);
if (!existsSync(opts.bin)) usage(`no backstock binary at ${opts.bin} (build it with cargo build)`);
if (!existsSync(opts.chromium)) {
  usage(`no Chromium at ${opts.chromium} (apt-get install chromium, or pass --chromium)`);
}

// ---- what the demo holds (crates/web/src/cli.rs, crates/app/src/demo.rs) ----

const LABEL = 'marigold';
const OWNER = 'owner@marigold.test';
const ARTIST = 'artist@marigold.test';
const BOOKKEEPER = 'bookkeeper@marigold.test';
const ARTIST_PAYEE = 'june-okafor';
const DISTRIBUTOR = 'northwind';
const SKU = 'MRG-001-CD'; // Harbor Lights (CD), consigned at Northwind, wholesale 8.00
const WHOLESALE_CENTS = 800;
// A fresh password for the demo logins each run (proves we sign in with what we set).
const PASSWORD = `browser-${randomBytes(9).toString('hex')}`;

// One new statement from Northwind: 3 units sold at wholesale, less the 15% fee.
const STATEMENT_ID = 'NORTHWIND-2016-06-SUPPLEMENT';
const SOLD_UNITS = 3;
const SALE_CENTS = SOLD_UNITS * WHOLESALE_CENTS; // 24.00
const FEE_CENTS = 360; // 3.60
const NET_CENTS = SALE_CENTS - FEE_CENTS; // 20.40
const cents = (c) => `${Math.trunc(c / 100)}.${String(c % 100).padStart(2, '0')}`;
const HEADER =
  'statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo';
const GOOD_CSV = [
  HEADER,
  `${STATEMENT_ID},${DISTRIBUTOR},2016-06-01,2016-06-30,2016-06-30,sale,${SKU},${SOLD_UNITS},${cents(SALE_CENTS)},USD,late supplement`,
  `${STATEMENT_ID},${DISTRIBUTOR},2016-06-01,2016-06-30,2016-06-30,fee,,,${cents(FEE_CENTS)},USD,distribution fee`,
  '',
].join('\n');
// The same file with a malformed amount on line 3 (column 9).
const BAD_CSV = GOOD_CSV.replace(`,${cents(FEE_CENTS)},USD`, ',3.6x,USD');

// ---- plumbing ----

const dataDir = mkdtempSync(join(tmpdir(), 'backstock-browser-data-'));
const artifacts = mkdtempSync(join(tmpdir(), 'backstock-browser-artifacts-'));
let server;
let serverLog = '';
let browser;
const pages = new Set();
const results = [];

class Failure extends Error {}
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}

/// "$3,557.23" / "-$1.00" / "($1.00)" → integer cents (the demo label is en-US / USD).
function moneyCents(text) {
  const t = text.trim();
  const m = t.match(/^(\(|-)?\$?(-)?([0-9,]+)\.([0-9]{2})\)?$/);
  check(m, `expected an en-US money amount such as $1,234.56, found ${JSON.stringify(t)}`);
  const v = Number(m[3].replaceAll(',', '')) * 100 + Number(m[4]);
  return m[1] || m[2] ? -v : v;
}

/// "12.34" (CSV exports: plain decimals) → integer cents.
function decimalCents(text) {
  const m = text.trim().match(/^(-)?([0-9]+)\.([0-9]{2})$/);
  check(m, `expected a decimal such as 1234.56 in the CSV, found ${JSON.stringify(text)}`);
  const v = Number(m[2]) * 100 + Number(m[3]);
  return m[1] ? -v : v;
}

function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

function startServer() {
  return new Promise((resolvePromise, reject) => {
    const args = [
      '--data-dir',
      dataDir,
      'serve',
      '--demo',
      '--demo-password',
      PASSWORD,
      '--addr',
      '127.0.0.1:0',
    ];
    server = spawn(opts.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(
      () => reject(new Failure(`backstock serve did not print its address within 180 s:\n${serverLog}`)),
      180_000,
    );
    const onData = (d) => {
      serverLog += d.toString();
      const m = serverLog.match(/serving .* on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', (d) => {
      serverLog += d.toString();
    });
    server.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Failure(`backstock serve exited (${code ?? signal}) before serving:\n${serverLog}`));
    });
  });
}

async function newPage(context) {
  // A debug build on a busy 2-core machine: the first dashboard computes the books.
  context.setDefaultTimeout(60_000);
  context.setDefaultNavigationTimeout(60_000);
  const page = await context.newPage();
  pages.add(page);
  page.on('close', () => pages.delete(page));
  return page;
}

async function step(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`- ${name} … `);
  try {
    const note = await fn();
    const ms = Date.now() - t0;
    results.push({ name, ok: true, ms });
    console.log(`ok (${ms} ms)${note ? `: ${note}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log('FAILED');
    throw Object.assign(e, { step: name });
  }
}

/// Signs in through the form and returns where the browser landed.
async function signIn(page, base, email, password) {
  await page.goto(`${base}/login`);
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  return new URL(page.url()).pathname;
}

/// The text of the cell under `column` in the row of `table` whose first cell is `key`.
async function cell(page, table, key, column) {
  const t = page.locator(`#table-${table}`);
  check((await t.count()) === 1, `no table #table-${table} on ${page.url()}`);
  const heads = (await t.locator('thead th').allInnerTexts()).map((s) => s.trim());
  const col = heads.indexOf(column);
  check(col >= 0, `#table-${table} has no column ${JSON.stringify(column)} (columns: ${heads.join(', ')})`);
  const rows = t.locator('tbody tr');
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = rows.nth(i).locator('td');
    if ((await cells.nth(0).innerText()).trim() === key) {
      return (await cells.nth(col).innerText()).trim();
    }
  }
  throw new Failure(`#table-${table} on ${page.url()} has no row ${JSON.stringify(key)}`);
}

async function journalLength(page) {
  const note = (await page.locator('#dashboard .note').first().innerText()).trim();
  const m = note.match(/([0-9,]+) journal entries/);
  check(m, `the dashboard does not say how many journal entries it shows: ${JSON.stringify(note)}`);
  return Number(m[1].replaceAll(',', ''));
}

/// What the dashboard shows for Northwind, from the page and from its CSV download.
async function readDashboard(page, base) {
  await page.goto(`${base}/t/${LABEL}/dashboard`);
  check(
    new URL(page.url()).pathname === `/t/${LABEL}/dashboard`,
    `the dashboard redirected to ${page.url()}`,
  );
  check((await page.locator('#exposure-chart').count()) === 1, 'the dashboard has no #exposure-chart');
  const entries = await journalLength(page);
  const open = moneyCents(await cell(page, 'ageing', DISTRIBUTOR, 'open'));
  const stock = moneyCents(await cell(page, 'ageing', DISTRIBUTOR, 'stock at wholesale'));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-ageing')]);
  const path = join(artifacts, `ageing-${entries}.csv`);
  await download.saveAs(path);
  const row = parseCsv(readFileSync(path, 'utf8')).find((r) => r.distributor === DISTRIBUTOR);
  check(row, `the ageing CSV has no row for ${DISTRIBUTOR}`);
  check(
    decimalCents(row.open) === open,
    `the ageing CSV says ${DISTRIBUTOR} owes ${row.open}, the page ${cents(open)}`,
  );
  return { entries, open, stock };
}

/// Clicks the page's first `#statement-pdf` link and checks the download is a whole PDF.
async function downloadPdf(page, who) {
  const link = page.locator('#statement-pdf').first();
  check((await link.count()) === 1, `${page.url()} has no #statement-pdf link for the ${who}`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = join(artifacts, `${who}-${download.suggestedFilename() || 'statement.pdf'}`);
  await download.saveAs(path);
  const pdf = readFileSync(path);
  check(pdf.length > 1000, `the ${who}'s PDF is only ${pdf.length} bytes (${path})`);
  check(
    pdf.subarray(0, 5).toString('latin1') === '%PDF-',
    `the ${who}'s download does not start with %PDF- (${path})`,
  );
  check(
    pdf.subarray(-1024).toString('latin1').includes('%%EOF'),
    `the ${who}'s PDF has no %%EOF trailer (${path})`,
  );
  return `${new URL(download.url()).pathname} (${pdf.length} bytes)`;
}

// ---- the tests ----

async function main() {
  const base = await startServer();
  console.log(`backstock serve --demo at ${base} (data ${dataDir})`);
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: !opts.headed,
    // Debian's Chromium in a container: no sandbox, and nothing that reaches the network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  console.log(`Chromium ${browser.version()} (${opts.chromium})`);
  const owner = await browser.newContext({ acceptDownloads: true });
  const page = await newPage(owner);
  let before;

  await step('owner signs in through the form', async () => {
    const wrong = await signIn(page, base, OWNER, `${PASSWORD}-wrong`);
    check(wrong === '/login', `a wrong password landed on ${wrong}`);
    check(
      (await page.locator('#login-error').innerText()).includes('wrong email or password'),
      'a wrong password does not say so on #login-error',
    );
    const landed = await signIn(page, base, OWNER, PASSWORD);
    check(landed === `/t/${LABEL}/dashboard`, `the owner landed on ${landed}, not the dashboard`);
    const session = (await owner.cookies()).find((c) => c.name === 'bs_session');
    check(session, 'no session cookie after signing in');
    check(session.httpOnly, 'the session cookie is not HttpOnly');
    check(session.sameSite === 'Lax', `the session cookie is SameSite=${session.sameSite}, not Lax`);
  });

  await step('dashboard shows Northwind before the import', async () => {
    before = await readDashboard(page, base);
    check(before.entries > 0, 'the demo dashboard shows an empty journal');
    check(before.open > 0, `Northwind's open balance is ${cents(before.open)}`);
    return `${before.entries} entries, ${DISTRIBUTOR} open ${cents(before.open)}, stock ${cents(before.stock)}`;
  });

  await step('a broken statements file is refused with its line and column', async () => {
    await page.click('#nav-import');
    await page.setInputFiles('#upload-file', {
      name: 'northwind-broken.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(BAD_CSV),
    });
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('#upload-submit')]);
    check(resp.status() === 422, `a broken file answered ${resp.status()}, not 422`);
    const errors = await page.locator('#upload-errors').innerText();
    check(
      /line 3, column 9 \(amount\)/.test(errors) && errors.includes('3.6x'),
      `the error does not name line 3, column 9 (amount) and the value 3.6x:\n${errors}`,
    );
    check((await page.locator('#confirm-submit').count()) === 0, 'a broken file can be confirmed');
  });

  await step('upload a statement: preview, nothing recorded, confirm', async () => {
    await page.click('#upload-again');
    await page.setInputFiles('#upload-file', {
      name: 'northwind-supplement.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(GOOD_CSV),
    });
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('#upload-submit')]);
    check(resp.status() === 200, `the preview answered ${resp.status()}`);
    const preview = await page.locator('#upload-preview').innerText();
    check(
      preview.includes('would record 2 statements lines → 1 entry') && preview.includes(cents(NET_CENTS)),
      `the preview does not announce 2 lines → 1 entry of ${cents(NET_CENTS)}:\n${preview}`,
    );
    const entries = await page.locator('#upload-entries').innerText();
    check(
      entries.includes(`statement:${DISTRIBUTOR}:${STATEMENT_ID}`),
      `the preview does not list the statement entry:\n${entries}`,
    );
    // Nothing is recorded before the confirmation (looked at in a second tab).
    const other = await newPage(owner);
    await other.goto(`${base}/t/${LABEL}/dashboard`);
    const during = await journalLength(other);
    await other.close();
    check(during === before.entries, `the preview recorded something: ${before.entries} → ${during} entries`);
    await Promise.all([page.waitForNavigation(), page.click('#confirm-submit')]);
    const result = await page.locator('#import-result').innerText();
    check(result.trim().length > 0, 'the confirmation shows no result');
    check(!/nothing changed|dry run/i.test(result), `the confirmation did not record:\n${result}`);
  });

  await step('dashboard and distributor page show the new statement', async () => {
    await Promise.all([page.waitForNavigation(), page.click('#after-import')]);
    const after = await readDashboard(page, base);
    check(
      after.entries === before.entries + 1,
      `journal entries ${before.entries} → ${after.entries}, expected one more`,
    );
    check(
      after.open - before.open === NET_CENTS,
      `Northwind's open balance moved ${cents(before.open)} → ${cents(after.open)}, expected +${cents(NET_CENTS)}`,
    );
    check(
      before.stock - after.stock === SALE_CENTS,
      `Northwind's stock at wholesale moved ${cents(before.stock)} → ${cents(after.stock)}, expected −${cents(SALE_CENTS)} (${SOLD_UNITS} units sold)`,
    );
    await Promise.all([
      page.waitForNavigation(),
      page.locator('#table-ageing a', { hasText: DISTRIBUTOR }).first().click(),
    ]);
    const netDue = moneyCents(await cell(page, 'statements', STATEMENT_ID, 'net due'));
    check(netDue === NET_CENTS, `the distributor page shows net due ${cents(netDue)} for ${STATEMENT_ID}`);
    const open = moneyCents(await cell(page, 'statements', STATEMENT_ID, 'open'));
    check(open === NET_CENTS, `the distributor page shows ${cents(open)} open on ${STATEMENT_ID}`);
    return `${after.entries} entries, ${DISTRIBUTOR} open ${cents(after.open)}, stock ${cents(after.stock)}`;
  });

  let otherStatement; // a statement URL of a payee other than the artist
  await step('owner downloads a royalty statement PDF', async () => {
    const resp = await page.goto(`${base}/t/${LABEL}/statements`);
    check(
      resp.status() === 200,
      `/t/${LABEL}/statements answered ${resp.status()} (the royalty statements pages are missing)`,
    );
    const pdf = await downloadPdf(page, 'owner');
    // Links to statements of payees other than the demo artist, for step 5.
    const hrefs = await page
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    // One statement page per payee other than the artist: /t/L/statements/PERIOD/PAYEE.
    const byPayee = new Map();
    for (const h of hrefs) {
      const m = h.match(new RegExp(`^(/t/${LABEL}/statements/[^/?#]+/([^/?#]+))`));
      if (m && m[2] !== ARTIST_PAYEE && !byPayee.has(m[2])) byPayee.set(m[2], m[1]);
    }
    otherStatement = [...byPayee.values()];
    check(otherStatement.length > 0, `the owner's statements page links no statement of another payee than ${ARTIST_PAYEE}`);
    return pdf;
  });

  await step('artist cannot open the dashboard or another artist\'s statement', async () => {
    const artist = await browser.newContext({ acceptDownloads: true });
    const ap = await newPage(artist);
    const landed = await signIn(ap, base, ARTIST, PASSWORD);
    check(!landed.startsWith('/login'), `the artist could not sign in (landed on ${landed})`);
    let resp = await ap.goto(`${base}/t/${LABEL}/dashboard`);
    check(resp.status() === 403, `the artist opened the dashboard (status ${resp.status()})`);
    check(
      (await ap.locator('#error-message').count()) === 1,
      'the refused dashboard shows no #error-message',
    );
    check(
      (await ap.locator('#table-ageing').count()) === 0,
      'the refused dashboard page still shows the receivables',
    );
    resp = await ap.goto(`${base}/t/${LABEL}/distributors/${DISTRIBUTOR}`);
    check(resp.status() === 403, `the artist opened a distributor page (status ${resp.status()})`);
    // The artist's own statements are there, and only theirs.
    resp = await ap.goto(`${base}/t/${LABEL}/statements`);
    check(resp.status() === 200, `the artist cannot open their statements (status ${resp.status()})`);
    const own = await ap
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const foreign = own.filter(
      (h) => h.startsWith(`/t/${LABEL}/statements/`) && !h.split(/[?#]/)[0].endsWith(`/${ARTIST_PAYEE}`),
    );
    check(foreign.length === 0, `the artist's statements page links other payees' statements: ${foreign.join(', ')}`);
    const ownPdf = await downloadPdf(ap, 'artist');
    // …and another payee's statement, page or PDF, is refused when asked for directly.
    const refused = [];
    for (const href of otherStatement.flatMap((h) => [h, `${h}?format=pdf`])) {
      const r = await ap.request.get(`${base}${href}`, { maxRedirects: 0 });
      check(
        r.status() === 403 || r.status() === 404,
        `the artist got ${r.status()} for another payee's statement ${href}`,
      );
      const body = await r.body();
      check(!body.subarray(0, 5).toString('latin1').startsWith('%PDF'), `the artist downloaded ${href}`);
      refused.push(`${href} → ${r.status()}`);
    }
    await artist.close();
    return `own ${ownPdf}; refused ${refused.join(', ')}`;
  });

  await step('the owner pays an artist and the artist sees the remittance', async () => {
    const ref = `WIRE-${randomBytes(3).toString('hex').toUpperCase()}`;
    let resp = await page.goto(`${base}/t/${LABEL}/payouts`);
    check(resp.status() === 200, `the owner cannot open the Payouts page (status ${resp.status()})`);
    await page.selectOption('#pay-payee', ARTIST_PAYEE);
    await page.fill('#pay-amount', '12.34');
    await page.fill('#pay-currency', 'USD');
    await page.fill('#pay-reference', ref);
    await Promise.all([page.waitForNavigation(), page.click('#pay-submit')]);
    check((await page.locator('#payouts-error').count()) === 0, 'the payment was refused');
    const said = await page.locator('#payouts-result').innerText();
    check(said.startsWith('Paid') && said.includes(ref), `the page did not say what was paid: ${said}`);
    const artist = await browser.newContext();
    const ap = await newPage(artist);
    await signIn(ap, base, ARTIST, PASSWORD);
    resp = await ap.goto(`${base}/t/${LABEL}/payouts`);
    check(resp.status() === 200, `the artist cannot open their remittance advice (status ${resp.status()})`);
    const advice = await ap.locator('#remittance').innerText();
    check(advice.includes(ref) && advice.includes('12.34'), `the remittance advice does not show the payment: ${advice}`);
    check((await ap.locator('#pay-form').count()) === 0, 'the artist is offered the form to pay');
    await artist.close();
    return `paid 12.34 USD (${ref}); the artist sees it`;
  });

  await step('the bookkeeper records a payment and the dashboard moves by exactly that amount', async () => {
    const kc = await browser.newContext();
    const kp = await newPage(kc);
    await signIn(kp, base, BOOKKEEPER, PASSWORD);
    const before = await readDashboard(kp, base);
    await kp.goto(`${base}/t/${LABEL}/record?distributor=${DISTRIBUTOR}`);
    await kp.fill('#payment-distributor', DISTRIBUTOR);
    await kp.fill('#payment-amount', '123.45');
    await kp.fill('#payment-reference', `BROWSER-${randomBytes(3).toString('hex')}`);
    await Promise.all([kp.waitForNavigation(), kp.click('#payment-submit')]);
    const said = (await kp.locator('#action-result').innerText()).trim();
    check(said.includes('123.45'), `the Record page says ${JSON.stringify(said)}`);
    const after = await readDashboard(kp, base);
    check(
      before.open - after.open === 12345,
      `${DISTRIBUTOR} owed ${cents(before.open)} and now ${cents(after.open)}: not 123.45 less`,
    );
    check(after.entries === before.entries + 1, `the journal grew by ${after.entries - before.entries}, not 1`);
    await kc.close();
    return `${DISTRIBUTOR} ${cents(before.open)} → ${cents(after.open)}`;
  });

  await step('a newcomer signs up, makes a label and invites a bookkeeper who accepts by the link', async () => {
    const slug = `browser-${randomBytes(3).toString('hex')}`;
    const founder = await browser.newContext();
    const fp = await newPage(founder);
    await fp.goto(`${base}/signup`);
    await fp.fill('#signup-email', `founder@${slug}.test`);
    await fp.fill('#signup-name', 'Fran Founder');
    await fp.fill('#signup-password', PASSWORD);
    await fp.fill('#signup-label-name', 'Browser Records');
    await fp.fill('#signup-label-slug', slug);
    await Promise.all([fp.waitForNavigation(), fp.click('#signup-submit')]);
    let at = new URL(fp.url()).pathname;
    check(at === `/t/${slug}/dashboard`, `sign-up landed on ${at}, not the new label's dashboard`);
    check((await fp.locator('#dashboard').count()) === 1, 'the new label has no dashboard');
    // The owner invites a bookkeeper: a one-time link shown once.
    await fp.goto(`${base}/t/${slug}/users`);
    const keeper = `keeper@${slug}.test`;
    // First as an artist without saying which: refused, and the page comes back with
    // the form as typed and why.
    await fp.fill('#link-invite-email', keeper);
    await fp.selectOption('#link-invite-role', 'artist');
    await Promise.all([fp.waitForNavigation(), fp.click('#link-invite-submit')]);
    const why = await fp.locator('#error-message').innerText();
    check(why.includes('limited to one'), `the refused invitation says ${JSON.stringify(why)}`);
    check((await fp.locator('#link-invite-email').inputValue()) === keeper, 'the refused invitation lost the email typed');
    check((await fp.locator('#link-invite-role').inputValue()) === 'artist', 'the refused invitation lost the role chosen');
    // Then, from the same form, as a bookkeeper.
    await fp.selectOption('#link-invite-role', 'bookkeeper');
    await Promise.all([fp.waitForNavigation(), fp.click('#link-invite-submit')]);
    const link = await fp.locator('#invite-link').inputValue();
    check(/\/invite\/[0-9a-f]{64}$/.test(link), `no invitation link on the page: ${JSON.stringify(link)}`);
    // The bookkeeper, in a browser of their own, accepts and lands in the label.
    const kc = await browser.newContext();
    const kp = await newPage(kc);
    await kp.goto(link);
    check((await kp.locator('#invite-what').innerText()).includes('as bookkeeper'), 'the link does not say the role');
    await kp.fill('#accept-name', 'Kim Keeper');
    await kp.fill('#accept-password', `${PASSWORD}-keeper`);
    await kp.fill('#accept-password2', `${PASSWORD}-keeper`);
    await Promise.all([kp.waitForNavigation(), kp.click('#accept-submit')]);
    at = new URL(kp.url()).pathname;
    check(at === `/t/${slug}/dashboard`, `the bookkeeper landed on ${at}`);
    const resp = await kp.goto(`${base}/t/${slug}/users`);
    check(resp.status() === 403, `the bookkeeper opened the Users page (status ${resp.status()})`);
    // Used once; the owner sees the member and the steps in the audit log.
    const again = await kp.request.get(link, { maxRedirects: 0 });
    check(again.status() === 404, `the used link answered ${again.status()}, not 404`);
    await fp.goto(`${base}/t/${slug}/users`);
    const role = await cell(fp, 'members', keeper, 'role');
    check(role === 'bookkeeper', `the Users page shows ${keeper} as ${role}`);
    await fp.goto(`${base}/t/${slug}/audit`);
    const audit = await fp.locator('#table-audit').innerText();
    for (const a of ['label_created', 'invitation_created', 'invitation_accepted']) {
      check(audit.includes(a), `the audit log has no ${a}`);
    }
    await kc.close();
    await founder.close();
    return `${slug}: ${keeper} joined as bookkeeper`;
  });
}

async function screenshots() {
  let i = 0;
  for (const p of pages) {
    try {
      const path = join(artifacts, `failure-${++i}.png`);
      await p.screenshot({ path, fullPage: true });
      console.error(`  screenshot of ${p.url()}: ${path}`);
    } catch {
      // A page that is gone has nothing to show.
    }
  }
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGINT'); // graceful shutdown (Ctrl-C)
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  const where = e.step ? ` in "${e.step}"` : '';
  console.error(`\nbrowser tests FAILED${where}: ${e instanceof Failure ? e.message : e.stack || e}`);
  await screenshots();
  const log = join(artifacts, 'server.log');
  writeFileSync(log, serverLog);
  console.error(`  server log: ${log}`);
  console.error(`  artifacts: ${artifacts}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  rmSync(dataDir, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
console.log(`browser: ${passed} passed, ${results.length - passed + (failed && results.every((r) => r.ok) ? 1 : 0)} failed`);
if (failed) process.exit(1);
rmSync(artifacts, { recursive: true, force: true });
