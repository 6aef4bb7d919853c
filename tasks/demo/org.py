"""Dingzhou's organisation for the demo: townships, villages, departments and demo accounts.

Everything here is fixed (it does not depend on the generator's seed) and written with
get-or-create on natural keys, so a second run, or a run with another seed, adds nothing.
"""

import random

from django.contrib.auth.hashers import make_password

from org.models import Department, Township, User, Village

DEMO_PASSWORD = "dingzhou-demo"

T = Township.Kind
# (name, kind, ASCII code of its township office, number of villages or communities)
TOWNSHIPS = [
    ("南城区街道", T.STREET, "nanchengqu", 12),
    ("北城区街道", T.STREET, "beichengqu", 10),
    ("西城区街道", T.STREET, "xichengqu", 9),
    ("长安路街道", T.STREET, "changanlu", 9),
    ("留早镇", T.TOWN, "liuzao", 27),
    ("清风店镇", T.TOWN, "qingfengdian", 28),
    ("庞村镇", T.TOWN, "pangcun", 24),
    ("砖路镇", T.TOWN, "zhuanlu", 26),
    ("明月店镇", T.TOWN, "mingyuedian", 25),
    ("叮咛店镇", T.TOWN, "dingningdian", 23),
    ("东亭镇", T.TOWN, "dongting", 27),
    ("大辛庄镇", T.TOWN, "daxinzhuang", 26),
    ("东旺镇", T.TOWN, "dongwang", 24),
    ("高蓬镇", T.TOWN, "gaopeng", 25),
    ("邢邑镇", T.TOWN, "xingyi", 24),
    ("李亲顾镇", T.TOWN, "liqingu", 26),
    ("子位镇", T.TOWN, "ziwei", 25),
    ("开元镇", T.TOWN, "kaiyuan", 23),
    ("周村镇", T.TOWN, "zhoucun", 24),
    ("息冢镇", T.TOWN, "xizhong", 22),
    ("东留春乡", T.TOWNSHIP, "dongliuchun", 20),
    ("号头庄回族乡", T.TOWNSHIP, "haotouzhuang", 19),
    ("杨家庄乡", T.TOWNSHIP, "yangjiazhuang", 22),
    ("大鹿庄乡", T.TOWNSHIP, "daluzhuang", 21),
    ("西城乡", T.TOWNSHIP, "xicheng", 21),
]
assert len(TOWNSHIPS) == 25 and sum(row[3] for row in TOWNSHIPS) == 542

_SUFFIXES = {T.STREET: "街道", T.TOWN: "镇", T.TOWNSHIP: "乡"}
# Ethnic townships are known without the designation too (号头庄回族乡 → 号头庄).
_ETHNIC = ("回族",)


def short_name(name: str, kind: str) -> str:
    """The name without its kind suffix and any ethnic designation: 南城区街道 → 南城区, 号头庄回族乡 → 号头庄."""
    base = name.removesuffix(_SUFFIXES[kind])
    for designation in _ETHNIC:
        base = base.removesuffix(designation)
    return base


def office_name(name: str, kind: str) -> str:
    """The township office's department name: 南城区街道办事处, 留早镇人民政府."""
    return name + ("办事处" if kind == T.STREET else "人民政府")


D = Department.Kind
# (name, code, kind): the functional departments and utilities of DOMAIN.md.
DEPARTMENTS = [
    ("民政局", "minzheng", D.FUNCTIONAL),
    ("城管局", "chengguan", D.FUNCTIONAL),
    ("住建局", "zhujian", D.FUNCTIONAL),
    ("卫健局", "weijian", D.FUNCTIONAL),
    ("生态环境局", "shengtai", D.FUNCTIONAL),
    ("行政审批局", "shenpi", D.FUNCTIONAL),
    ("自然资源和规划局", "ziranziyuan", D.FUNCTIONAL),
    ("交通运输局", "jiaotong", D.FUNCTIONAL),
    ("水利局", "shuili", D.FUNCTIONAL),
    ("教育局", "jiaoyu", D.FUNCTIONAL),
    ("人社局", "renshe", D.FUNCTIONAL),
    ("市场监管局", "shichang", D.FUNCTIONAL),
    ("农业农村局", "nongye", D.FUNCTIONAL),
    ("不动产登记中心", "budongchan", D.FUNCTIONAL),
    ("供电公司", "gongdian", D.UTILITY),
    ("供水公司", "gongshui", D.UTILITY),
    ("供热公司", "gongre", D.UTILITY),
]
SUPERVISION = ("问政办", "supervision", D.SUPERVISION)

R = User.Role
# (username, role, department code or None, full name): the accounts the README lists.
ACCOUNTS = [
    ("leader", R.LEADER, None, "赵志刚"),
    ("supervisor", R.SUPERVISOR, "supervision", "孙丽华"),
    ("registrar", R.REGISTRAR, None, "周晓燕"),
    ("head-zhujian", R.HEAD, "zhujian", "吴国强"),
    ("handler-zhujian", R.HANDLER, "zhujian", "郑海涛"),
    ("handler-chengguan", R.HANDLER, "chengguan", "陈明"),
    ("admin", R.ADMIN, None, "冯立新"),
]
# More registrars share the year's intake, so `registrar` does not hold all 61,000.
EXTRA_REGISTRARS = [("registrar-hotline", "何春梅"), ("registrar-online", "许文静")]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文春海燕晓梅林鹏飞波辉宇浩然欣怡子涵俊峰亮凤琴云霞永胜玉珍淑兰德福振东凯丹"

_VILLAGE_WORDS = "王张李刘赵杨陈孙周吴郑冯韩曹魏高马田董袁邢柳韦耿贾郝宋庞尚"
_VILLAGE_PATTERNS = ["{w}家庄", "{w}庄", "{w}村", "{w}家营", "{w}家屯", "{w}官庄", "{w}家寨", "{w}辛庄", "{w}堡"]
_VILLAGE_PREFIXES = ["", "", "东", "西", "南", "北", "大", "小", "前", "后"]
_COMMUNITY_WORDS = [
    "中山", "兴华", "建设", "胜利", "博物馆", "文庙", "朝阳", "和平", "光明", "新华", "花园", "康宁", "东关", "西关",
    "南关", "北关", "开元", "贡院", "东湖", "府前", "中华", "育德", "永安", "富强", "幸福", "阳光", "安居", "书香",
    "锦绣", "万和", "丰源", "紫荆", "华都", "清风", "桃园", "龙泉", "金地", "翠园", "民生", "瑞祥", "御园", "颐和",
]


def person_name(rng: random.Random) -> str:
    """A plausible Chinese full name (surname + one or two characters)."""
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def village_names(index: int, name: str, kind: str, count: int) -> list[str]:
    """Generated, fixed names of one township's villages (留早村, 东留早村 …) or communities (…社区)."""
    rng = random.Random(1000 + index)
    base = short_name(name, kind)
    if kind == T.STREET:
        words = list(_COMMUNITY_WORDS)
        rng.shuffle(words)
        return [w + "社区" for w in words[:count]]
    # 东东亭村 reads wrong: a name that already starts with a direction takes 前/后 instead.
    sides = ("前", "后") if base[0] in "东西南北" else ("东", "西")
    names = [base + "村", sides[0] + base + "村", sides[1] + base + "村"][: min(3, count)]
    seen = set(names)
    while len(names) < count:
        candidate = rng.choice(_VILLAGE_PREFIXES) + rng.choice(_VILLAGE_PATTERNS).format(w=rng.choice(_VILLAGE_WORDS))
        if candidate not in seen:
            seen.add(candidate)
            names.append(candidate)
    return names


def ensure_organisation() -> dict:
    """Create what is missing of the townships, villages, departments and offices; return them by key."""
    townships = {}
    for order, (name, kind, _code, _count) in enumerate(TOWNSHIPS, start=1):
        townships[name], _ = Township.objects.get_or_create(
            name=name, defaults={"kind": kind, "short_name": short_name(name, kind), "sort_order": order}
        )
    existing = set(Village.objects.filter(township__in=townships.values()).values_list("township_id", "name"))
    missing = []
    for index, (name, kind, _code, count) in enumerate(TOWNSHIPS):
        township = townships[name]
        village_kind = Village.Kind.COMMUNITY if kind == T.STREET else Village.Kind.VILLAGE
        for village in village_names(index, name, kind, count):
            if (township.pk, village) not in existing:
                missing.append(Village(township=township, name=village, kind=village_kind))
    Village.objects.bulk_create(missing)

    departments = {}
    rows = [(n, c, k, None) for n, c, k in DEPARTMENTS]
    rows += [(office_name(n, k), c, D.TOWNSHIP, townships[n]) for n, k, c, _count in TOWNSHIPS]
    rows.append((*SUPERVISION, None))
    for order, (name, code, kind, township) in enumerate(rows, start=1):
        departments[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "township": township, "sort_order": order}
        )
    return {"townships": townships, "departments": departments}


def ensure_accounts(departments: dict) -> dict:
    """The demo accounts (password dingzhou-demo), plus a head and a handler for every other department."""
    rng = random.Random(7)
    wanted = []
    for username, role, code, full_name in ACCOUNTS:
        wanted.append((username, role, code, full_name))
    for username, full_name in EXTRA_REGISTRARS:
        wanted.append((username, R.REGISTRAR, None, full_name))
    for code, department in departments.items():
        if department.kind == D.SUPERVISION:
            continue
        for role, prefix in ((R.HEAD, "head"), (R.HANDLER, "handler")):
            name = person_name(rng)
            if not any(w[0] == f"{prefix}-{code}" for w in wanted):
                wanted.append((f"{prefix}-{code}", role, code, name))
    have = set(User.objects.filter(username__in=[w[0] for w in wanted]).values_list("username", flat=True))
    if len(have) < len(wanted):
        # One hash for all: the password is public and PBKDF2 takes ~0.3 s per call.
        password = make_password(DEMO_PASSWORD)
        User.objects.bulk_create(
            User(
                username=username,
                role=role,
                department=departments[code] if code else None,
                full_name=full_name,
                password=password,
                email=f"{username}@dingzhou.example.gov.cn",
                is_staff=role == R.ADMIN,
                is_superuser=role == R.ADMIN,
            )
            for username, role, code, full_name in wanted
            if username not in have
        )
    return {user.username: user for user in User.objects.filter(username__in=[w[0] for w in wanted])}
