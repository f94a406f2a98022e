"""Fake personal data for the demo: names, phone numbers and ID numbers (演示数据, not real people)."""

from __future__ import annotations

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕建国志强文彬建华海燕春梅德福永胜长青淑珍玉兰桂芝凤英金花堃喆昇䶮")


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN, n)
    two = rng.random(n) < 0.7
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1))


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = rng.choice(["133", "135", "136", "138", "139", "150", "153", "158", "177", "180", "189", "191"], n)
    rest = rng.integers(0, 10**8, n)
    return np.array([f"{p}{r:08d}" for p, r in zip(prefix, rest)])


def id_numbers(rng: np.random.Generator, n: int, region: str = "610902") -> np.ndarray:
    """18-digit resident ID numbers with a valid GB 11643 check digit."""
    birth = np.datetime64("1940-01-01") + rng.integers(0, 365 * 65, n).astype("timedelta64[D]")
    seq = rng.integers(0, 1000, n)
    out = []
    for b, s in zip(birth.astype(str), seq):
        body = f"{region}{b.replace('-', '')}{s:03d}"
        out.append(body + _check_digit(body))
    return np.array(out)


def _check_digit(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights))
    return "10X98765432"[total % 11]
