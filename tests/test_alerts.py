"""抓苗头 (analysis.alerts): surges against an independent computation and a no-pattern
simulation, groups of near-duplicate texts and level-skipping on hand-made cases, the demo's
planted signals at the top of their lists, category suggestions that change nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.alerts import clusters, current_alerts, level_skip, surges
from analysis.alerts.classify import suggestions, train
from geo import fdr

AS_OF = dt.date(2026, 10, 31)


# ---------------------------------------------------------------------------- surges

def test_surge_p_value_is_the_exact_conditional_poisson_test():
    cells = pd.DataFrame({"level": "village", "area_code": ["a", "b", "c"], "category": ["X", "X", "Y"],
                          "observed": [9, 2, 0], "baseline": [13, 26, 5]})
    district = pd.DataFrame({"category": ["X", "Y"], "observed": [40, 3], "baseline": [390, 60]})
    k = 13.0
    out = surges.score(cells, district, k, q=0.05)
    for r, row in zip(out.itertuples(), cells.itertuples()):
        d = district.set_index("category").loc[row.category]
        trend = (d.observed - row.observed + 1) / ((d.baseline - row.baseline) / k + 1)
        assert r.expected == pytest.approx(trend * row.baseline / k)
        if row.observed:
            ref = stats.binomtest(row.observed, row.observed + row.baseline, trend / (k + trend), alternative="greater").pvalue
            assert r.p == pytest.approx(ref, rel=1e-9)
        else:
            assert r.p == 1.0
    # the first cell: 9 against about 1 expected is a surge; 2 against 2 is not
    assert out["surge"].tolist() == [True, False, False]


def test_a_place_with_a_short_history_is_judged_by_the_poisson_expectation_when_it_has_history():
    """With a long baseline the conditional test approaches the Poisson tail at the expectation."""
    cells = pd.DataFrame({"level": "village", "area_code": ["a"], "category": ["X"], "observed": [30], "baseline": [20_000]})
    district = pd.DataFrame({"category": ["X"], "observed": [30], "baseline": [20_000]})
    out = surges.score(cells, district, 1000.0)
    assert out["expected"].iloc[0] == pytest.approx(20.0)
    assert out["p"].iloc[0] == pytest.approx(stats.poisson.sf(29, 20.0), rel=0.05)


def _simulate(rng, places=80, categories=8, weeks=13, surge: float = 1.0):
    rate = rng.gamma(1.0, 0.6, (places, categories))  # cases a week, constant in time
    if surge != 1.0:
        rate[0, 0] = 1.0  # a place with about one case a week of the category
    window = rate.copy()
    window[0, 0] *= surge
    x = rng.poisson(window)
    b = rng.poisson(rate * weeks)
    cells = pd.DataFrame({"level": "village", "area_code": np.repeat(np.arange(places).astype(str), categories),
                          "category": np.tile(np.arange(categories).astype(str), places),
                          "observed": x.ravel(), "baseline": b.ravel()})
    cells = cells[(cells["observed"] + cells["baseline"]) > 0].reset_index(drop=True)
    district = pd.DataFrame({"category": np.arange(categories).astype(str), "observed": x.sum(axis=0), "baseline": b.sum(axis=0)})
    return surges.score(cells, district, float(weeks), q=0.05)


def test_no_pattern_simulation_rarely_raises_a_surge():
    """200 seeded runs of constant Poisson rates (640 cells): at q = 0.05 at most 10% of runs raise any warning."""
    rng = np.random.default_rng(20261031)
    runs = [bool(_simulate(rng)["surge"].any()) for _ in range(200)]
    assert sum(runs) / len(runs) <= 0.10, sum(runs)


def test_simulation_finds_a_planted_twelvefold_surge():
    """Power: twelve cases in a week where one is usual is found in most runs, among 640 cells."""
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(50):
        out = _simulate(rng, surge=12.0)
        hit = out[(out["area_code"] == "0") & (out["category"] == "0")]
        found += bool(len(hit) and hit["surge"].iloc[0])
    assert found >= 40, found


def test_q_values_agree_with_the_benjamini_hochberg_cut_off():
    rng = np.random.default_rng(1)
    p = np.r_[rng.uniform(size=200), rng.uniform(0, 1e-4, 10), np.nan]
    q = fdr.q_values(p)
    m = 210
    order = np.argsort(p[:-1])
    brute = np.array([min(p[:-1][order][j] * m / (j + 1) for j in range(i, m)) for i in range(m)])
    assert np.allclose(q[:-1][order], np.minimum(brute, 1))
    assert np.isnan(q[-1])
    assert ((q <= 0.05) == fdr.significance(p, 0.05)[0]).all()


def test_demo_surge_counts_and_p_value_from_the_raw_cases(con, demo_truth):
    plant = demo_truth["alerts"]["surge"]
    top = surges.surges(con, AS_OF).iloc[0]
    assert (top["area_code"], top["category"]) == (plant["village"], plant["category"])
    start, base = AS_OF - dt.timedelta(days=6), AS_OF - dt.timedelta(days=6 + 91)

    def n(cond: str, *params) -> int:
        return con.execute(f"SELECT count(*) FROM cases WHERE category = ? AND {cond}", [plant["category"], *params]).fetchone()[0]
    x = n("area_code = ? AND received_at::DATE BETWEEN ? AND ?", plant["village"], start, AS_OF)
    b = n("area_code = ? AND received_at::DATE >= ? AND received_at::DATE < ?", plant["village"], base, start)
    dw = n("received_at::DATE BETWEEN ? AND ?", start, AS_OF)
    db = n("received_at::DATE >= ? AND received_at::DATE < ?", base, start)
    assert x == top["observed"] >= plant["cases"]
    assert b == top["baseline"]
    trend = (dw - x + 1) / ((db - b) / 13 + 1)
    assert top["p"] == pytest.approx(stats.binomtest(x, x + b, trend / (13 + trend), alternative="greater").pvalue, rel=1e-9)
    assert sorted(top["case_ids"]) == sorted(r[0] for r in con.execute(
        "SELECT case_id FROM cases WHERE category = ? AND area_code = ? AND received_at::DATE BETWEEN ? AND ?",
        [plant["category"], plant["village"], start, AS_OF]).fetchall())


# ---------------------------------------------------------------------------- near-duplicate groups

def _cases(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["case_id", "place", "content", "channel", "keyed"])
    return df.assign(received_at=pd.Timestamp("2026-10-30"), category="饮水", petitioner_hash=[
        f"h{i}" if k else None for i, k in enumerate(df["keyed"])], village_code=df["place"], town_code="t")


def test_near_duplicates_of_neighbouring_villages_group_and_others_do_not():
    text = "村口新建石料厂夜间施工噪声扰民、粉尘污染严重，群众要求停工整改。"
    cases = _cases([
        ("a1", "A", text, "群工热线", True), ("a2", "A", text.replace("。", "！"), "网上信访", True),
        ("b1", "B", text, "代理信访", True),  # B neighbours A
        ("c1", "C", text, "群工热线", True),  # C is not a neighbour
        ("a3", "A", "反映低保评定不公，请求复核。", "群工热线", True),
    ])
    near = {"A": {"B"}, "B": {"A"}, "C": set()}
    g = clusters.group(cases, 0.8, near)
    assert g[0] == g[1] == g[2] and len({g[0], g[3], g[4]}) == 3
    one_place = clusters.group(cases, 0.8, near, same_place=True)
    assert one_place[0] == one_place[1] != one_place[2]
    groups = clusters.summarise(cases, g)
    assert groups["case_ids"].map(sorted).tolist() == [["a1", "a2", "b1"]]
    assert groups["channels"].iloc[0] == ["代理信访", "网上信访", "群工热线"]


def test_the_demo_plants_are_the_top_of_their_lists(con, demo_truth):
    plants = demo_truth["alerts"]
    items = current_alerts(con, as_of=AS_OF)
    top = {k: next(a for a in items if a.kind == k) for k in ("surge", "cluster", "level_skip", "same_matter")}
    assert top["surge"].area_codes == [plants["surge"]["village"]] and top["surge"].numbers["category"] == "征地拆迁补偿"
    assert sorted(top["cluster"].area_codes) == plants["cluster"]["villages"]
    assert len(top["cluster"].case_ids) == plants["cluster"]["cases"]
    assert top["level_skip"].area_codes == [plants["level_skip"]["village"]]
    assert top["level_skip"].numbers == {**top["level_skip"].numbers, "cases": 3, "city": 3, "category": "干部作风"}
    assert top["same_matter"].area_codes == [plants["same_matter"]["village"]]
    assert sorted(top["same_matter"].numbers["channels"]) == sorted(plants["same_matter"]["channels"])
    assert top["same_matter"].numbers["keyless"] == 3
    assert all(a.rank == 1 for a in top.values())


def test_a_town_sees_only_warnings_touching_it(con, demo_truth):
    village = demo_truth["alerts"]["surge"]["village"]
    town = village[:9]
    everything = current_alerts(con, as_of=AS_OF)
    mine = current_alerts(con, town, as_of=AS_OF)
    assert mine and all(c.startswith(town) for a in mine for c in a.area_codes)
    assert any(a.kind == "surge" and a.area_codes == [village] for a in mine)
    touching = [a for a in everything if any(c.startswith(town) for c in a.area_codes)]
    assert [a.key for a in mine] == [a.key for a in touching]
    areas = dict(con.execute("SELECT case_id, area_code FROM cases").fetchall())
    assert all(areas[c].startswith(town) for a in mine for c in a.case_ids)


# ---------------------------------------------------------------------------- level-skipping

def test_level_skipping_needs_no_lower_level_case_on_the_matter_before():
    t = pd.Timestamp("2026-10-30 10:00")
    high = pd.DataFrame([
        ("h1", "A", "道路", "反映道路破损。", t),        # A had a village-level case on 道路 10 days before
        ("h2", "B", "饮水", "本组自来水管道老化破裂，已经停水十多天，请求尽快维修。", t),  # B had a similar text under another category
        ("h3", "C", "低保", "低保评定不公。", t),         # C's lower-level case is 40 days old
        ("h4", "D", "治安", "夜间有人聚众赌博。", t),       # the lower-level case was in E
        ("h5", "F", "交通", "公交停运。", t),             # F's lower-level case came after
    ], columns=["case_id", "place", "category", "content", "received_at"])
    low = pd.DataFrame([
        ("l1", "A", "道路", "路面坑洼。", t - pd.Timedelta(days=10)),
        ("l2", "B", "基础设施", "本组自来水管道老化破裂，已经停水十多天，请求尽快维修！", t - pd.Timedelta(days=3)),
        ("l3", "C", "低保", "低保评定不公。", t - pd.Timedelta(days=40)),
        ("l4", "E", "治安", "夜间有人聚众赌博。", t - pd.Timedelta(days=2)),
        ("l5", "F", "交通", "公交停运。", t + pd.Timedelta(days=1)),
    ], columns=["case_id", "place", "category", "content", "received_at"])
    assert level_skip.skipping(high, low, 30, 0.8).tolist() == [False, False, True, True, True]


# ---------------------------------------------------------------------------- category suggestions

def test_suggestions_are_cross_validated_and_change_no_stored_category(con, demo_truth):
    before = con.execute("SELECT case_id, category FROM cases ORDER BY case_id").fetchall()
    terms, per_case, model = suggestions(con)
    assert con.execute("SELECT case_id, category FROM cases ORDER BY case_id").fetchall() == before
    assert model.folds == 5 and len(model.per_fold) == 5
    assert model.accuracy == pytest.approx(np.mean(model.per_fold)) and 0.5 < model.accuracy <= 1
    got = dict(zip(terms["category_raw"], terms["suggested"]))
    assert set(got) == set(demo_truth["alerts"]["unmapped"]["terms"])
    for term, cat in demo_truth["alerts"]["unmapped"]["suggested"].items():
        assert got[term] == cat
    assert dict(zip(terms["category_raw"], terms["cases"])) == demo_truth["alerts"]["unmapped"]["terms"]


def test_a_classifier_on_separable_texts_is_accurate_and_one_on_noise_is_not():
    rng = np.random.default_rng(3)
    words = {"饮水": "停水 水管 水质", "道路": "路面 坑洼 修路", "低保": "低保 救助 评定"}
    rows = [(f"{rng.choice(w.split())}问题{rng.integers(100)}", c) for c, w in words.items() for _ in range(40)]
    good = train(pd.DataFrame(rows, columns=["content", "category"]))
    assert good.accuracy > 0.9
    noise = pd.DataFrame({"content": [f"问题{rng.integers(1000)}" for _ in range(120)],
                          "category": rng.choice(list(words), 120)})
    assert train(noise).accuracy < 0.6


def test_empty_warehouse_has_no_warnings(wh):
    from etl.db import connect

    with connect(wh, read_only=True) as c:
        assert current_alerts(c) == []
        terms, per_case, model = suggestions(c)
        assert terms.empty and model.accuracy is None


def test_the_full_demos_plants_are_the_top_of_their_lists(full_demo):
    con, truth = full_demo
    plants = truth["alerts"]
    items = current_alerts(con)
    top = {k: next(a for a in items if a.kind == k) for k in ("surge", "cluster", "level_skip", "same_matter")}
    assert top["surge"].area_codes == [plants["surge"]["village"]] and len(top["surge"].case_ids) >= plants["surge"]["cases"]
    assert sorted(top["cluster"].area_codes) == plants["cluster"]["villages"]
    assert len(top["cluster"].case_ids) == plants["cluster"]["cases"] == 14
    assert top["level_skip"].area_codes == [plants["level_skip"]["village"]]
    assert top["same_matter"].area_codes == [plants["same_matter"]["village"]]


def test_a_group_spanning_two_towns_shows_a_town_only_its_own_part(con):
    """A town's view of a group warning counts and names only its own villages and cases."""
    import json

    from analysis.alerts import cut, ranked

    near = clusters.neighbours(con)
    ids = lambda v: [r[0] for r in con.execute("SELECT case_id FROM cases WHERE area_code = ? ORDER BY case_id", [v]).fetchall()]
    a, b = next((v, w) for v, ws in sorted(near.items()) for w in sorted(ws)
                if v[:9] != w[:9] and len(ids(v)) >= 2 and len(ids(w)) >= 3 and len(ids(v)) != len(ids(w)))
    mine, theirs = ids(a)[:4], ids(b)[:7]
    cases = clusters.cases_by_id(con, mine + theirs)
    whole = ranked._clusters(clusters.summarise(cases, np.zeros(len(cases), dtype=int)), ranked._names(con))
    assert whole[0].numbers["cases"] == len(mine) + len(theirs)
    town = a[:9]
    scoped = cut(con, whole, town)[0]
    assert scoped.area_codes == [a] and sorted(scoped.case_ids) == sorted(mine)
    assert scoped.numbers["cases"] == len(mine) and scoped.numbers["places"] == 1
    assert f"{len(mine)} 件" in scoped.title and f"{len(mine) + len(theirs)} 件" not in scoped.title + scoped.why
    assert "1 个相同或相邻的村" in scoped.why
    other = con.execute("SELECT t.name, v.name FROM areas v JOIN areas t ON t.code = v.parent_code WHERE v.code = ?",
                        [b]).fetchone()
    text = json.dumps(scoped.as_dict(), ensure_ascii=False, default=str)
    for leak in (b, b[:9], *other, *theirs):
        assert leak not in text, leak
    assert whole[0].key.startswith(f"cluster:{a}:") or whole[0].key.startswith(f"cluster:{b}:")  # district-wide key kept
    assert whole[0].numbers["cases"] == len(mine) + len(theirs)  # the district's item is not changed


@pytest.mark.parametrize("chunk", [1, 7, clusters.CHUNK_CELLS])
def test_similar_pairs_in_blocks_are_the_dense_computations(con, chunk):
    """The pairs found a block of rows at a time are those of the full dense similarity matrix."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = clusters.recent_cases(con, AS_OF)["content"].astype(str).tolist() + [r[0] for r in con.execute(
        "SELECT content FROM cases WHERE nullif(trim(content), '') IS NOT NULL ORDER BY case_id LIMIT 250").fetchall()]
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit_transform(texts).toarray()
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    dense = x @ x.T
    want = {(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if dense[i, j] >= 0.8 - 1e-9}
    assert want  # the demo's planted groups are among them
    a, b = clusters.similar_pairs(texts, 0.8, chunk_cells=chunk * len(texts))
    assert sorted(zip(a.tolist(), b.tolist())) == sorted(want)


def test_sampling_a_large_training_set_keeps_rare_categories_cross_validated():
    """More cases than MAX_TRAIN with a category of two cases: still trained, every category kept."""
    from analysis.alerts import classify

    rng = np.random.default_rng(0)
    big = classify.MAX_TRAIN // 3 + 1000
    rows = [(f"{c}问题{rng.integers(1000)}", c) for c in ("饮水", "道路", "低保") for _ in range(big)]
    rows += [("宅基地纠纷一", "宅基地"), ("宅基地纠纷二", "宅基地")]
    m = train(pd.DataFrame(rows, columns=["content", "category"]))
    assert m.pipeline is not None and m.folds == 2 and len(m.per_fold) == 2
    assert sorted(m.classes) == ["低保", "宅基地", "道路", "饮水"]
    assert m.n_train <= classify.MAX_TRAIN + 2


def _simulate_trends(rng, score, villages=80, towns=8, categories=8, weeks=13, trends=None):
    """Constant local rates with district-wide rises during the window (×3, ×3, ×2 in three
    categories) and no local surge; town cells over their villages' counts, as production scores them."""
    trends = {0: 3.0, 1: 3.0, 2: 2.0} if trends is None else trends
    rate = rng.gamma(1.0, 0.6, (villages, categories))
    window = rate.copy()
    for c, t in trends.items():
        window[:, c] *= t
    x, b = rng.poisson(window), rng.poisson(rate * weeks)
    town = np.arange(villages) % towns
    tx = np.array([x[town == t].sum(axis=0) for t in range(towns)])
    tb = np.array([b[town == t].sum(axis=0) for t in range(towns)])

    def frame(level, codes, xx, bb):
        return pd.DataFrame({"level": level, "area_code": np.repeat(codes, categories),
                             "category": np.tile(np.arange(categories).astype(str), len(codes)),
                             "observed": xx.ravel(), "baseline": bb.ravel()})
    cells = pd.concat([frame("village", [f"v{i}" for i in range(villages)], x, b),
                       frame("town", [f"t{i}" for i in range(towns)], tx, tb)])
    cells = cells[(cells["observed"] + cells["baseline"]) > 0].reset_index(drop=True)
    district = pd.DataFrame({"category": np.arange(categories).astype(str), "observed": x.sum(axis=0), "baseline": b.sum(axis=0)})
    return score(cells, district, float(weeks), q=0.05)


def test_district_wide_rises_are_not_local_surges():
    """100 seeded runs with the district's own rise in three categories (720 village and town
    cells): at most 10% raise any surge. Without the trend correction nearly every run would."""
    rng = np.random.default_rng(20261031)
    runs = [bool(_simulate_trends(rng, surges.score)["surge"].any()) for _ in range(100)]
    assert sum(runs) <= 10, sum(runs)

    def ignoring_the_trend(cells, district, k, q=None):
        return surges.score(cells, district.assign(observed=0, baseline=0), k, q)
    rng = np.random.default_rng(20261031)
    assert sum(bool(_simulate_trends(rng, ignoring_the_trend)["surge"].any()) for _ in range(20)) >= 18  # the test's power


def test_level_skipping_matches_a_village_with_its_town_and_a_town_with_its_villages():
    t = pd.Timestamp("2026-10-30 10:00")
    cols = ["case_id", "place", "village_code", "town_code", "category", "content", "received_at"]
    high = pd.DataFrame([
        ("h1", "T1V1", "T1V1", "T1", "道路", "反映道路破损。", t),  # its town had a town-only case on 道路
        ("h2", "T2", None, "T2", "饮水", "停水多日。", t),          # a town-only case: a village of the town had one
        ("h3", "T3V1", "T3V1", "T3", "低保", "低保评定不公。", t),  # only another town's town-only case
        ("h4", "T1V2", "T1V2", "T1", "治安", "夜间赌博。", t),      # a neighbouring village's case is not its own
    ], columns=cols)
    low = pd.DataFrame([
        ("l4", "T1V3", "T1V3", "T1", "治安", "夜间赌博。", t - pd.Timedelta(days=5)),
        ("l2", "T2V7", "T2V7", "T2", "饮水", "自来水停了。", t - pd.Timedelta(days=5)),
        ("l3", "T4", None, "T4", "低保", "低保评定不公。", t - pd.Timedelta(days=5)),
        ("l1", "T1", None, "T1", "道路", "路面坑洼。", t - pd.Timedelta(days=5)),
    ], columns=cols)
    assert level_skip.skipping(high, low, 30, 0.8).tolist() == [False, False, True, True]
