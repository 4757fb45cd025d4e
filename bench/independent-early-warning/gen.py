#!/usr/bin/env python3
"""Seeded 4-5 year label histories for probing backstock's early warning.

Shapes deliberately NOT in crates/risk-eval (see README there):

healthy
  habitual_late        pays 30-50 days beyond terms from its very first statement
  quarterly_150        quarterly statements, 150-day terms, 30-55 day issue lag
  lump_sum             monthly statements, pays irregular lump sums every 6-10 weeks covering
                       everything due, never naming statements
  twice_a_year         monthly statements, pays everything due twice a year (June, December)
  halve_recover        sales fall to 45-60% for 10-14 months then recover; orders lag the dip,
                       sends overstock back to the label
  late_stmt_twice      two statements every year sent 35-70 days later than usual (summer,
                       year end), paid a few days after they come
  monthly_to_quarterly monthly statements, then a new agreement: quarterly, terms +0/+30

failing (default date D; nothing known of the distributor from D on)
  slowing_stepwise     from D-11..13 months lateness steps up every quarter (+12..25 days a
                       step); from D-5 months it pays two statements at a time, unnamed
  shrinking_on_account from D-12..15 months pays round sums "on account" (no statement named),
                       the share falling from ~95% to 35-50% (noisy)
  stmts_stop_ships_go  statements stop abruptly D-5..8 months; POs and shipments continue
                       (x1.0-1.3) to D; the statements issued are paid on time
  orders_up_pays_half  from D-9..11 months pays only every second statement (in full, on
                       time) while orders ramp to x1.6-2.5; statements continue

Everyday noise everywhere: short pays at 96-99.5% on 8-20% of statements, payment
jitter of a few days (weekends moved to Monday), issue-lag jitter, Q4 seasonality,
retail returns, and (for 70% of distributors) a January credit note for Q4 returns that
the distributor takes off its next remittance.

Usage: gen.py --seeds 1-10 --out DIR/labels
"""
import argparse
import calendar
import csv
import datetime as dt
import io
import json
import math
import os
import random
from seeds import parse_seeds

HEALTHY = ["habitual_late", "quarterly_150", "lump_sum", "twice_a_year",
           "halve_recover", "late_stmt_twice", "monthly_to_quarterly"]
FAILING = ["slowing_stepwise", "shrinking_on_account", "stmts_stop_ships_go",
           "orders_up_pays_half"]
ABBR = {"habitual_late": "HL", "quarterly_150": "QL", "lump_sum": "LS",
        "twice_a_year": "TY", "halve_recover": "HR", "late_stmt_twice": "LT",
        "monthly_to_quarterly": "MQ", "slowing_stepwise": "SS",
        "shrinking_on_account": "SA", "stmts_stop_ships_go": "SG",
        "orders_up_pays_half": "OU"}
NAMES = ["Bramble", "Outpost", "Kestrel", "Tideline", "Foundry", "Larkspur", "Quarry",
         "Wren", "Saltmarsh", "Ironwood", "Marigold", "Halcyon", "Redtail", "Moraine"]
STATES = ["NC", "OR", "CA", "NY", "TX", "IL", "WA", "TN", "GA", "MN", "MA", "CO"]


def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def month_end(d):
    return dt.date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def weekday(d):
    # a payment or an order lands on a business day
    if d.weekday() == 5:
        return d + dt.timedelta(days=2)
    if d.weekday() == 6:
        return d + dt.timedelta(days=1)
    return d


def money(minor):
    s = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{s}{minor // 100}.{minor % 100:02d}"


def upc_check(body11):
    digits = [int(c) for c in body11]
    s = 3 * sum(digits[0::2]) + sum(digits[1::2])
    return body11 + str((10 - s % 10) % 10)


D = dt.timedelta


class Item:
    pass


def make_catalog(r, start, months, prefix):
    n = r.randint(24, 34)
    items = []
    for i in range(n):
        it = Item()
        fmt = r.choices(["CD", "LP", "CS", "7IN"], [55, 30, 8, 7])[0]
        it.fmt = fmt
        it.sku = f"{prefix}-{i + 101:03d}-{fmt}"
        it.upc = upc_check(f"6{r.randint(0, 99999):05d}{i + 101:05d}")
        if i < int(n * 0.65):
            it.release = start - D(days=r.randint(60, 2500))
        else:
            it.release = start + D(days=r.randint(20, months * 30 - 240))
        price = {"CD": (650, 900), "LP": (1100, 1500), "CS": (500, 650), "7IN": (400, 520)}[fmt]
        it.wholesale = r.randrange(price[0], price[1] + 1, 25)
        it.list = it.wholesale * 2 - 2
        it.cost = {"CD": 105, "LP": 560, "CS": 140, "7IN": 230}[fmt]
        it.weight = {"CD": r.uniform(1.5, 9), "LP": r.uniform(1, 5), "CS": r.uniform(0.3, 1.5),
                     "7IN": r.uniform(0.3, 1.2)}[fmt]
        it.title = f"{r.choice(NAMES)} {r.choice(['Songs', 'Nights', 'Road', 'Hours', 'Lines', 'Weather'])}"
        it.artist = f"{r.choice(NAMES)} {r.choice(['Trio', 'Collective', 'Quartet', 'Ensemble', 'Sisters'])}"
        items.append(it)
    return items


class Dist:
    def __init__(self, shape, idx, r, start, end, months):
        self.shape = shape
        self.r = r
        self.name = f"{shape.replace('_', '-')}-{idx}"
        self.abbr = ABBR[shape] + str(idx)
        self.fails = shape in FAILING
        self.scale = r.uniform(0.7, 2.4)
        self.trend = r.uniform(-0.05, 0.08)
        self.q = {10: r.uniform(1.15, 1.4), 11: r.uniform(1.4, 1.8), 12: r.uniform(1.8, 2.6),
                  1: r.uniform(0.7, 0.85), 2: r.uniform(0.8, 0.9), 7: 0.9, 8: 0.9}
        self.quarterly = shape == "quarterly_150"
        if shape == "quarterly_150":
            self.terms = 150
        else:
            self.terms = r.choice([60, 60, 75, 90, 90])
        self.lag = r.randint(30, 55) if self.quarterly else r.randint(14, 30)
        self.fee = r.randint(15, 28) / 100
        self.reserve = r.choice([0, 0.10, 0.15, 0.20])
        self.reserve_days = r.choice([180, 180, 270])
        self.short_p = r.uniform(0.08, 0.20)
        self.credit_notes = r.random() < 0.7
        self.cover = r.uniform(2.2, 3.2)
        self.title_retained = r.random() < 0.6
        self.ucc_filed = start - D(days=r.randint(5, 60))
        self.ucc_state = r.choice(STATES)
        self.ucc_no = f"{self.ucc_filed.year}{r.randint(0, 9999999):07d}"
        self.p = {}
        self.default = None
        # shape parameters
        if shape == "habitual_late":
            self.habit = r.randint(30, 50)
            self.p["habit_days_late"] = self.habit
        if shape == "halve_recover":
            m0 = r.randint(14, max(15, months - 26))
            self.dip_from = add_months(start, m0)
            self.dip_months = r.randint(10, 14)
            self.dip_to = add_months(self.dip_from, self.dip_months)
            self.dip = r.uniform(0.45, 0.6)
            self.p.update(dip_from=str(self.dip_from), dip_to=str(self.dip_to), dip=round(self.dip, 2))
        if shape == "late_stmt_twice":
            self.late_months = r.choice([(6, 11), (7, 12), (5, 12), (8, 11)])
            self.late_extra = (35, 70)
            self.p["late_months"] = self.late_months
        if shape == "monthly_to_quarterly":
            m = r.randint(15, 30)
            sw = add_months(start, m)
            while sw.month not in (1, 4, 7, 10):
                sw = add_months(sw, 1)
            self.switch = sw
            self.terms2 = self.terms + r.choice([0, 30])
            self.lag2 = r.randint(25, 45)
            self.p.update(switch=str(sw), terms2=self.terms2)
        if shape == "lump_sum":
            self.p["lump_every_weeks"] = "6-10"
        if self.fails:
            lo = add_months(start, 30)
            hi = end - D(days=40)
            self.default = lo + D(days=r.randint(0, (hi - lo).days))
            self.decline = r.uniform(0.0, 0.2)
            dd = self.default
            if shape == "slowing_stepwise":
                self.onset = add_months(dd, -r.randint(11, 13))
                self.steps = [r.randint(12, 25) for _ in range(5)]
                self.bundle_from = add_months(dd, -5)
                self.p.update(onset=str(self.onset), steps=self.steps, bundle_from=str(self.bundle_from))
            if shape == "shrinking_on_account":
                self.onset = add_months(dd, -r.randint(12, 15))
                self.floor = r.uniform(0.35, 0.5)
                self.p.update(onset=str(self.onset), floor=round(self.floor, 2))
            if shape == "stmts_stop_ships_go":
                self.stop = add_months(dd, -r.randint(5, 8)) - D(days=r.randint(0, 20))
                self.onset = self.stop
                self.order_boost = r.uniform(1.0, 1.3)
                self.p.update(statements_stop=str(self.stop), order_boost=round(self.order_boost, 2))
            if shape == "orders_up_pays_half":
                self.onset = add_months(dd, -r.randint(9, 11))
                self.ramp = r.uniform(1.6, 2.5)
                self.p.update(onset=str(self.onset), order_ramp=round(self.ramp, 2))
            self.p["default_on"] = str(dd)
        # state
        self.held = {}
        self.sold_month = {}  # (month, sku index) -> units
        self.returns_due = {}
        self.period_sales = {}
        self.period_returns = {}
        self.q4_sales = {}
        self.reserves = []  # (period end, minor)
        self.statements = []  # dicts
        self.cn_open = 0  # credit notes not yet taken off a remittance (minor, >0)
        self.last_po = None

    def alive(self, d):
        return self.default is None or d < self.default

    def quarterly_on(self, pe):
        if self.shape == "monthly_to_quarterly":
            return pe >= self.switch
        return self.quarterly

    def terms_on(self, pe):
        if self.shape == "monthly_to_quarterly" and pe >= self.switch:
            return self.terms2
        return self.terms

    def demand_mult(self, month, lag_months=0):
        m = add_months(month, -lag_months)
        mult = 1.0
        if self.shape == "halve_recover":
            if self.dip_from <= m < self.dip_to:
                mult = self.dip
            elif self.dip_to <= m < add_months(self.dip_to, 3):
                k = (m.year - self.dip_to.year) * 12 + m.month - self.dip_to.month + 1
                mult = self.dip + (1 - self.dip) * k / 3
        if self.fails and self.decline > 0:
            a = add_months(self.default, -12)
            f = min(1, max(0, (m - a).days / 365))
            mult *= 1 - self.decline * f
        return mult

    def expected(self, it, start, month, lag_months=0):
        if it.release > month_end(month):
            return 0.0
        since = (month.year - it.release.year) * 12 + month.month - it.release.month
        boost = 3.0 if since < 2 else 1.5 if since < 5 else 1.0
        years = (month - start).days / 365.25
        season = self.q.get(month.month, 1.0)
        return self.scale * it.weight * boost * season * (1 + self.trend) ** years * \
            self.demand_mult(month, lag_months)

    def order_mult(self, d):
        if self.shape == "orders_up_pays_half" and d >= self.onset:
            f = min(1, (d - self.onset).days / max(1, (self.default - self.onset).days))
            return 1 + (self.ramp - 1) * f
        if self.shape == "stmts_stop_ships_go" and d >= self.stop:
            return self.order_boost
        return 1.0


class Label:
    def __init__(self, seed, shapes_per_label=1):
        self.seed = seed
        self.agreed_calendars = False
        r = random.Random(seed * 7919 + 17)
        self.r = r
        y = r.choice([2013, 2014, 2015])
        m = r.choice([1, 4, 7, 10])
        self.start = dt.date(y, m, 1)
        self.months = r.randint(48, 57)
        self.end = add_months(self.start, self.months) - D(days=1)
        self.prefix = r.choice(["KST", "HWK", "ORB", "LNT", "BRK", "SLW"])
        self.cat = make_catalog(r, self.start, self.months, self.prefix)
        self.dists = []
        for k in range(shapes_per_label):
            for s in HEALTHY + FAILING:
                self.dists.append(Dist(s, k + 1, random.Random(f"{seed}-{s}-{k}"), self.start,
                                       self.end, self.months))
        self.label_stock = {}
        self.rows_ship = []  # (date, order, row)
        self.rows_po = []
        self.rows_stmt = []
        self.rows_pay = []
        self.pay_n = 0
        self.ship_n = 0
        self.run_n = 0
        self.po_n = 0

    # ---------------------------------------------------------------- simulation
    def run(self):
        month = self.start
        for mi in range(self.months):
            month = add_months(self.start, mi)
            for dist in self.dists:
                if not dist.alive(month):
                    continue
                self.order_and_ship(dist, month, mi)
                self.sell(dist, month, mi)
                self.maybe_return_overstock(dist, month)
                pe = month_end(month)
                if month.month == 1 and dist.credit_notes and mi > 0:
                    self.credit_note(dist, month)
                if not dist.quarterly_on(pe) or pe.month % 3 == 0:
                    self.statement(dist, month)
        for dist in self.dists:
            self.payments(dist)
        for dist in self.dists:
            dist.limit = self.credit_limit(dist)

    def order_and_ship(self, dist, month, mi):
        r = dist.r
        po_day = weekday(month + D(days=r.randint(2, 11)))
        if not dist.alive(po_day) or po_day > self.end:
            return
        mult = dist.order_mult(po_day)
        lines = []
        for i, it in enumerate(self.cat):
            if it.release > month_end(month):
                continue
            # the distributor plans on what it sold lately (its demand seen two months late)
            lag = 2 if dist.shape == "halve_recover" else 0
            whole = int(dist.cover)
            fc = sum(dist.expected(it, self.start, add_months(month, k), lag) for k in range(whole))
            fc += (dist.cover - whole) * dist.expected(it, self.start, add_months(month, whole), lag)
            fc *= mult
            reorder = (dist.expected(it, self.start, month, lag) +
                       dist.expected(it, self.start, add_months(month, 1), lag)) * mult
            held = dist.held.get(i, 0)
            if held < reorder:
                want = int(math.ceil((fc - held) / 5.0) * 5)
                if want >= 10:
                    lines.append((i, want))
        # last PO just before default for the stocking shape
        if dist.shape == "orders_up_pays_half" and add_months(month, 1) > dist.default - D(days=5) and not lines:
            lines = [(i, 20) for i, it in enumerate(self.cat) if it.release <= month][:6]
        if not lines:
            return
        self.po_n += 1
        po = f"{dist.abbr}-{self.po_n:05d}"
        for i, u in lines:
            self.rows_po.append((po_day, [po, po_day, dist.name, self.cat[i].sku, u]))
        ship_day = weekday(po_day + D(days=r.randint(2, 7)))
        if ship_day > self.end or not dist.alive(ship_day):
            return
        self.ship_n += 1
        sid = f"SH-{self.ship_n:05d}"
        dist.shipments = getattr(dist, "shipments", [])
        dist.shipments.append((ship_day, sid, [(self.cat[i].sku, u, self.cat[i].wholesale) for i, u in lines]))
        for i, u in lines:
            have = self.label_stock.get(i, 0)
            if have < u:
                lot = 1000 if self.cat[i].fmt == "CD" else 500
                press = ((u - have) // lot + 1) * lot
                self.run_n += 1
                self.rows_ship.append((month, 0, [f"RUN-{self.run_n:04d}", month, "plant:riverside", "label",
                                                   self.cat[i].sku, press, ""]))
                have += press
            self.label_stock[i] = have - u
            dist.held[i] = dist.held.get(i, 0) + u
            self.rows_ship.append((ship_day, 1, [sid, ship_day, "label", dist.name, self.cat[i].sku, u, po]))

    def maybe_return_overstock(self, dist, month):
        if dist.shape != "halve_recover":
            return
        if month != add_months(dist.dip_from, 3):
            return
        r = dist.r
        day = weekday(month + D(days=r.randint(12, 20)))
        share = r.uniform(0.3, 0.45)
        self.ship_n += 1
        sid = f"RT-{self.ship_n:05d}"
        for i, h in sorted(dist.held.items()):
            u = int(h * share)
            if u >= 5:
                dist.held[i] -= u
                self.label_stock[i] = self.label_stock.get(i, 0) + u
                self.rows_ship.append((day, 2, [sid, day, dist.name, "label", self.cat[i].sku, u, ""]))
        dist.p["overstock_returned_on"] = str(day)

    def sell(self, dist, month, mi):
        r = dist.r
        for i, it in enumerate(self.cat):
            back = dist.returns_due.pop((mi, i), 0)
            if back:
                dist.held[i] = dist.held.get(i, 0) + back
                dist.period_returns[i] = dist.period_returns.get(i, 0) + back
            exp = dist.expected(it, self.start, month)
            if exp <= 0:
                continue
            want = max(0, int(round(exp * r.uniform(0.7, 1.3))) + r.randint(-1, 1))
            sold = min(want, dist.held.get(i, 0))
            if sold <= 0:
                continue
            dist.held[i] -= sold
            dist.period_sales[i] = dist.period_sales.get(i, 0) + sold
            if month.month in (10, 11, 12):
                dist.q4_sales[i] = dist.q4_sales.get(i, 0) + sold
            if month.month in (10, 11, 12) and dist.credit_notes:
                continue  # Q4 returns come back on the January credit note
            b = int(round(sold * r.uniform(0.02, 0.06)))
            if b > 0:
                w = mi + r.randint(1, 3)
                dist.returns_due[(w, i)] = dist.returns_due.get((w, i), 0) + b

    def stmt_id(self, dist, pe, quarterly):
        if quarterly:
            return f"{dist.abbr}-{pe.year}Q{(pe.month - 1) // 3 + 1}"
        return f"{dist.abbr}-{pe.year}{pe.month:02d}"

    def credit_note(self, dist, month):
        """January credit note for the returns of Q4 (a statement of return lines only)."""
        r = dist.r
        issued = month + D(days=r.randint(9, 24))
        if not dist.alive(issued) or issued > self.end:
            dist.q4_sales = {}
            return
        if dist.shape == "stmts_stop_ships_go" and issued >= dist.stop:
            dist.q4_sales = {}
            return
        lines = []
        total = 0
        for i, s in sorted(dist.q4_sales.items()):
            u = int(round(s * r.uniform(0.04, 0.09)))
            if u > 0:
                amt = u * self.cat[i].wholesale
                total += amt
                dist.held[i] = dist.held.get(i, 0) + u
                lines.append((i, u, amt))
        dist.q4_sales = {}
        if not lines:
            return
        sid = f"{dist.abbr}-CN{month.year}"
        ps = add_months(month, -3)
        pe = month - D(days=1)  # the Q4 returns: period Oct-Dec
        for i, u, amt in lines:
            self.rows_stmt.append([sid, dist.name, ps, pe, issued, "return", self.cat[i].sku, u,
                                   money(amt), "USD", "credit note: holiday returns"])
        dist.statements.append(dict(id=sid, ps=ps, pe=pe, issued=issued, net=-total,
                                    due=pe + D(days=dist.terms_on(pe)), cn=True))

    def statement(self, dist, month):
        r = dist.r
        pe = month_end(month)
        quarterly = dist.quarterly_on(pe)
        ps = add_months(month, -2) if quarterly else month
        sales = dist.period_sales
        rets = dist.period_returns
        dist.period_sales, dist.period_returns = {}, {}
        lag = dist.lag
        if dist.shape == "monthly_to_quarterly" and quarterly:
            lag = dist.lag2
        lag = max(7, lag + r.randint(-4, 4))
        if dist.shape == "late_stmt_twice" and pe.month in dist.late_months and pe > self.start + D(days=60):
            lag += r.randint(*dist.late_extra)
        issued = pe + D(days=lag)
        if issued > self.end or not dist.alive(issued):
            return
        if dist.shape == "stmts_stop_ships_go" and issued >= dist.stop:
            return
        lines = []
        gross = sum(u * self.cat[i].wholesale for i, u in sales.items())
        ret = sum(u * self.cat[i].wholesale for i, u in rets.items())
        fee = int(round(max(0, gross - ret) * dist.fee))
        withheld = int(round(gross * dist.reserve))
        cutoff = pe - D(days=dist.reserve_days)
        released = sum(a for w, a in dist.reserves if w <= cutoff)
        dist.reserves = [(w, a) for w, a in dist.reserves if w > cutoff]
        if withheld:
            dist.reserves.append((pe, withheld))
        sid = self.stmt_id(dist, pe, quarterly)
        for i, u in sorted(sales.items()):
            lines.append(["sale", self.cat[i].sku, u, money(u * self.cat[i].wholesale), ""])
        for i, u in sorted(rets.items()):
            lines.append(["return", self.cat[i].sku, u, money(u * self.cat[i].wholesale), "retail returns"])
        if fee:
            lines.append(["fee", "", "", money(fee), "distribution fee"])
        if withheld:
            lines.append(["reserve_withheld", "", "", money(withheld), "reserve"])
        if released:
            lines.append(["reserve_released", "", "", money(released), "reserve released"])
        if not lines:
            lines.append(["adjustment", "", "", "0.00", "no activity"])
        for k, sku, u, amt, memo in lines:
            self.rows_stmt.append([sid, dist.name, ps, pe, issued, k, sku, u, amt, "USD", memo])
        net = gross - ret - fee - withheld + released
        dist.statements.append(dict(id=sid, ps=ps, pe=pe, issued=issued, net=net,
                                    due=pe + D(days=dist.terms_on(pe)), cn=False,
                                    gross=gross, ret=ret, reserve=withheld - released))

    # ---------------------------------------------------------------- payments
    def everyday_late(self, r):
        x = r.random()
        if x < 0.55:
            return r.randint(-2, 3)
        if x < 0.9:
            return r.randint(4, 9)
        if x < 0.97:
            return r.randint(10, 18)
        return r.randint(-10, -4)

    def pay(self, dist, date, amount, sid):
        if amount <= 0 or date > self.end or not dist.alive(date):
            return False
        self.pay_n += 1
        self.rows_pay.append((date, [f"{dist.abbr}-R{self.pay_n:05d}", date, dist.name, money(amount), "USD", sid]))
        dist.pays = getattr(dist, "pays", [])
        dist.pays.append((date, amount, sid))
        return True

    def short(self, dist, amount):
        r = dist.r
        if r.random() < dist.short_p:
            return int(amount * r.uniform(0.96, 0.995))
        return amount

    def payments(self, dist):
        r = dist.r
        st = sorted([s for s in dist.statements if not s["cn"]], key=lambda s: s["pe"])
        cns = sorted([s for s in dist.statements if s["cn"]], key=lambda s: s["issued"])
        dist.pays = []
        shape = dist.shape

        def take_credit(date, amount):
            # a January credit note is taken off the first remittance after it came
            nonlocal cns
            left = []
            for c in cns:
                if c["issued"] <= date - D(days=3) and amount > -c["net"] + 1000:
                    amount += c["net"]
                else:
                    left.append(c)
            cns = left
            return amount

        if shape in ("lump_sum", "twice_a_year"):
            owed_paid = 0  # what it considers settled (paid + deducted)
            if shape == "lump_sum":
                days = []
                t = self.start + D(days=r.randint(60, 90))
                while t <= self.end:
                    days.append(weekday(t))
                    t += D(days=r.randint(42, 70))
            else:
                days = []
                for y in range(self.start.year, self.end.year + 1):
                    for m in (6, 12):
                        days.append(weekday(dt.date(y, m, 15) + D(days=r.randint(-10, 10))))
            allst = sorted(dist.statements, key=lambda s: s["due"])
            for t in days:
                horizon = t + D(days=15 if shape == "lump_sum" else 0)
                due_total = sum(s["net"] for s in allst if s["due"] <= horizon and s["issued"] <= t - D(days=3))
                amount = due_total - owed_paid
                if amount <= 0:
                    continue
                pay_amt = amount
                if shape == "lump_sum" and r.random() < 0.5:
                    pay_amt = amount // 1000 * 1000  # rounded down to $10
                pay_amt = self.short(dist, pay_amt)
                if self.pay(dist, t, pay_amt, ""):
                    owed_paid += amount  # the distributor considers the rest deducted
            return

        if shape == "shrinking_on_account":
            for s in st:
                due = s["due"]
                t = weekday(max(due + D(days=self.everyday_late(r)), s["issued"] + D(days=r.randint(4, 12))))
                if t < dist.onset:
                    amt = take_credit(t, self.short(dist, s["net"]))
                    self.pay(dist, t, amt, s["id"])
                    continue
                f = min(1, (t - dist.onset).days / max(1, (dist.default - dist.onset).days))
                share = 0.95 - (0.95 - dist.floor) * f + r.uniform(-0.08, 0.08)
                share = min(1.0, share)
                amt = int(s["net"] * share) // 5000 * 5000  # round $50s
                if amt <= 0:
                    amt = int(s["net"] * share) // 100 * 100
                amt = take_credit(t, amt)
                self.pay(dist, t, amt, "")
            return

        if shape == "slowing_stepwise":
            pending = []
            for s in st:
                due = s["due"]
                extra = 0
                if due >= dist.onset:
                    q = min(4, (due - dist.onset).days // 91)
                    extra = sum(dist.steps[:q + 1])
                t = weekday(max(due + D(days=self.everyday_late(r) + extra), s["issued"] + D(days=r.randint(4, 12))))
                if t >= dist.bundle_from:
                    pending.append((t, s))
                    if len(pending) == 2:
                        tt = pending[-1][0]
                        amt = sum(self.short(dist, x["net"]) for _, x in pending)
                        self.pay(dist, tt, take_credit(tt, amt), "")
                        pending = []
                    continue
                self.pay(dist, t, take_credit(t, self.short(dist, s["net"])), s["id"])
            return

        for k, s in enumerate(st):
            due = s["due"]
            late = self.everyday_late(r)
            if shape == "habitual_late":
                late = dist.habit + r.randint(-5, 7)
            t = due + D(days=late)
            t = max(t, s["issued"] + D(days=r.randint(4, 12)))
            t = weekday(t)
            if shape == "orders_up_pays_half" and s["due"] >= dist.onset:
                dist.skip = not getattr(dist, "skip", False)
                if dist.skip:
                    continue
            amt = take_credit(t, self.short(dist, s["net"]))
            self.pay(dist, t, amt, s["id"])

    # ---------------------------------------------------------------- credit limit
    def credit_limit(self, dist):
        """The label sets it at 1.3-1.8x the most it had at stake while things were normal."""
        r = dist.r
        normal_until = dist.onset if dist.fails else self.end
        normal_until = max(normal_until, add_months(self.start, 12))
        ships = getattr(dist, "shipments", [])
        pays = getattr(dist, "pays", [])
        best = 0
        t = month_end(self.start)
        checkpoints = sorted({s[0] for s in ships if s[0] <= normal_until})
        while t <= normal_until:
            checkpoints.append(t)
            t = month_end(add_months(t, 1))
        retv = {}
        for row in self.rows_ship:
            if row[2] == 2 and row[1][2] == dist.name:
                retv.setdefault(row[0], 0)
                sku = row[1][4]
                w = next(it.wholesale for it in self.cat if it.sku == sku)
                retv[row[0]] += row[1][5] * w
        for t in sorted(set(checkpoints)):
            shipped = sum(u * w for d_, _, ls in ships if d_ <= t for _, u, w in ls)
            back = sum(v for d_, v in retv.items() if d_ <= t)
            sold = sum(s.get("gross", 0) - s.get("ret", 0) for s in dist.statements if s["issued"] <= t)
            cn = sum(-s["net"] for s in dist.statements if s["cn"] and s["issued"] <= t)
            due = sum(s["net"] for s in dist.statements if s["issued"] <= t)
            res = sum(s.get("reserve", 0) for s in dist.statements if s["issued"] <= t)
            paid = sum(a for d_, a, _ in pays if d_ <= t)
            best = max(best, shipped - back - sold + cn + max(0, due - paid) + res)
        lim = best * r.uniform(1.3, 1.8)
        return int(math.ceil(lim / 500000.0) * 500000)

    # ---------------------------------------------------------------- files
    def write(self, out):
        os.makedirs(out, exist_ok=True)

        def w(name, header, rows):
            with open(os.path.join(out, name), "w", newline="") as f:
                cw = csv.writer(f, lineterminator="\n")
                cw.writerow(header)
                for row in rows:
                    cw.writerow([str(x) for x in row])

        w("catalog.csv", "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency".split(","),
          [[it.sku, it.upc, it.title, it.artist, it.fmt, it.release, money(it.list), money(it.wholesale),
            money(it.cost), "USD"] for it in self.cat])
        ag = []
        for k, d in enumerate(self.dists):
            legal = f"{NAMES[(k * 3 + self.seed) % len(NAMES)]} {d.shape.split('_')[0].title()} Distribution, LLC"
            ucc = [d.ucc_no, d.ucc_filed, d.ucc_state] if d.title_retained else ["", "", ""]
            # --agreed-calendars: the label writes the twice-a-year payer's calendar in
            # its agreement (payment_months), as a label that signed for it knows it.
            cal = ["6;12" if d.shape == "twice_a_year" else ""] if self.agreed_calendars else []
            base = [d.name, legal, d.ucc_state, self.start, f"{d.fee:.2f}", d.terms,
                    "quarterly" if d.quarterly else "monthly", f"{d.reserve:.2f}", d.reserve_days,
                    money(d.limit), "USD", "true" if d.title_retained else "false"] + ucc + cal
            ag.append(base)
            if d.shape == "monthly_to_quarterly":
                ag.append([d.name, legal, d.ucc_state, d.switch, f"{d.fee:.2f}", d.terms2, "quarterly",
                           f"{d.reserve:.2f}", d.reserve_days, money(d.limit), "USD",
                           "true" if d.title_retained else "false"] + ucc + cal)
        w("distributors.csv", ("distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,"
                               "statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,"
                               "ucc1_file_number,ucc1_filed_on,ucc1_state").split(",")
          + (["payment_months"] if self.agreed_calendars else []), ag)
        w("purchase_orders.csv", "po_number,date,distributor,sku,units".split(","),
          [row for _, row in sorted(self.rows_po, key=lambda x: x[0])])
        w("shipments.csv", "shipment_id,date,from,to,sku,units,po_number".split(","),
          [row for _, _, row in sorted(self.rows_ship, key=lambda x: (x[0], x[1]))])
        w("statements.csv", "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo".split(","),
          sorted(self.rows_stmt, key=lambda x: (x[4], x[0])))
        w("payments.csv", "payment_id,date,distributor,amount,currency,statement_id".split(","),
          [row for _, row in sorted(self.rows_pay, key=lambda x: x[0])])
        plan = dict(seed=self.seed, start=str(self.start), end=str(self.end), months=self.months,
                    distributors=[dict(name=d.name, shape=d.shape, fails=d.fails,
                                       default_on=str(d.default) if d.default else None,
                                       terms=d.terms, quarterly=d.quarterly, credit_limit=money(d.limit),
                                       credit_notes=d.credit_notes, title_retained=d.title_retained,
                                       params={k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in d.p.items()},
                                       shipments=[[str(s[0]), s[1], s[2]] for s in getattr(d, "shipments", [])])
                                  for d in self.dists])
        with open(os.path.join(out, "plan.json"), "w") as f:
            json.dump(plan, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--out", required=True)
    ap.add_argument("--agreed-calendars", action="store_true",
                    help="write the twice-a-year payers' calendar (6;12) in their agreements")
    a = ap.parse_args()
    for seed in parse_seeds(a.seeds):
        lab = Label(seed)
        lab.agreed_calendars = a.agreed_calendars
        lab.run()
        lab.write(os.path.join(a.out, f"seed-{seed}", "files"))
        print(f"seed {seed}: {lab.start}..{lab.end}, {len(lab.dists)} distributors, "
              f"{len(lab.rows_stmt)} statement lines, {len(lab.rows_pay)} payments")


if __name__ == "__main__":
    main()
