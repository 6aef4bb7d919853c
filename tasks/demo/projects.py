"""The article's practical-task projects (实事项目) and TV accountability episodes (电视问政).

The figures are the ones the city published for 2021, stored as the indicators' current
values. Written with get-or-create on natural keys (project year + name, indicator name,
episode date, mechanism title), so a second run adds nothing.
"""

import datetime as dt
from decimal import Decimal

from tasks.models import Indicator, Mechanism, Project, TvEpisode

YEAR = 2021
_START = dt.date(YEAR, 1, 1)
_END = dt.date(YEAR, 12, 31)

# (department code, project name, description, [(indicator, unit, target, current)])
PROJECTS = [
    (
        "zhujian",
        "老旧小区改造",
        "城镇老旧小区改造提前4年完成，年底前完成改造100个。",
        [("完成改造老旧小区", "个", 100, 100)],
    ),
    (
        "zhujian",
        "无物业小区管理全覆盖",
        "排查无物业小区137个，其中105个签订物业服务合同，32个实行居民自治管理。",
        [
            ("纳入管理的无物业小区", "个", 137, 137),
            ("签订物业服务合同", "个", 105, 105),
            ("实行居民自治管理", "个", 32, 32),
        ],
    ),
    (
        "chengguan",
        "城区路灯照明提升",
        "新装和修复路灯456盏，城区道路亮灯率达到100%。",
        [("新装和修复路灯", "盏", 456, 456), ("城区道路路灯覆盖率", "%", 100, 100)],
    ),
    (
        "chengguan",
        "口袋公园和小游园建设",
        "利用边角空地建设口袋公园和小游园35个。",
        [("建成口袋公园和小游园", "个", 35, 35)],
    ),
    (
        "zhujian",
        "棚户区改造",
        "推进棚户区改造，建设安置住房7937套。",
        [("棚户区改造安置住房", "套", 7937, 7937)],
    ),
    (
        "minzheng",
        "养老服务网络建设",
        "建成1个市级养老服务指导中心、11个乡镇(街道)养老服务中心、6个村级幸福院和503个邻里互助点。",
        [
            ("市级养老服务指导中心", "个", 1, 1),
            ("乡镇(街道)养老服务中心", "个", 11, 11),
            ("村级幸福院", "个", 6, 6),
            ("邻里互助养老点", "个", 503, 503),
        ],
    ),
    (
        "budongchan",
        "化解不动产办证难",
        "集中化解历史遗留的不动产办证难问题，惠及3.3万户群众；不动产登记由12个工作日压缩至1个工作日。",
        [("解决办证难问题户数", "户", 33000, 33000)],
    ),
]

# (date, title, three department codes, [(mechanism title, department code)])
EPISODES = [
    (dt.date(YEAR, 6, 24), "电视问政第一期：城市管理与人居环境", ("chengguan", "zhujian", "shengtai"), [
        ("城市道路破损快速修复机制", "chengguan"),
        ("老旧小区改造居民议事机制", "zhujian"),
        ("餐饮油烟投诉联合处置机制", "shengtai"),
    ]),
    (dt.date(YEAR, 7, 29), "电视问政第二期：民生保障", ("minzheng", "weijian", "renshe"), [
        ("困难群众救助一站式办理机制", "minzheng"),
        ("农民工工资支付预警机制", "renshe"),
    ]),
    (dt.date(YEAR, 8, 26), "电视问政第三期：营商环境与审批服务", ("shenpi", "budongchan", "ziranziyuan"), [
        ("企业开办一日办结机制", "shenpi"),
        ("不动产登记一窗受理机制", "budongchan"),
        ("历史遗留办证问题会商机制", "ziranziyuan"),
    ]),
    (dt.date(YEAR, 9, 23), "电视问政第四期：交通水利与乡村振兴", ("jiaotong", "shuili", "nongye"), [
        ("农村公路养护巡查机制", "jiaotong"),
        ("汛期积水点台账管理机制", "shuili"),
    ]),
    (dt.date(YEAR, 10, 28), "电视问政第五期：教育与市场秩序", ("jiaoyu", "shichang", "gongdian"), [
        ("校外培训机构联合检查机制", "jiaoyu"),
        ("食品安全投诉限时办结机制", "shichang"),
        ("农村电网故障抢修承诺机制", "gongdian"),
    ]),
    (dt.date(YEAR, 11, 25), "电视问政第六期：供水供热与城区治理", ("gongshui", "gongre", "nanchengqu"), [
        ("供热质量入户测温机制", "gongre"),
        ("停水提前告知机制", "gongshui"),
    ]),
    (dt.date(YEAR, 12, 23), "电视问政第七期：街道社区服务", ("beichengqu", "xichengqu", "changanlu"), [
        ("社区网格员包联机制", "beichengqu"),
        ("无物业小区街道托管机制", "changanlu"),
    ]),
]
assert len({code for _d, _t, codes, _m in EPISODES for code in codes}) == 21
assert sum(len(m) for *_x, m in EPISODES) == 17


def ensure_projects(departments: dict) -> list[Project]:
    """The article's projects and indicators, with the published figures as current values."""
    projects = []
    for code, name, description, indicators in PROJECTS:
        project, _ = Project.objects.get_or_create(
            year=YEAR,
            name=name,
            defaults={"department": departments[code], "description": description, "starts_on": _START,
                      "due_on": _END},
        )
        for indicator, unit, target, current in indicators:
            Indicator.objects.get_or_create(
                project=project,
                name=indicator,
                defaults={"unit": unit, "baseline": Decimal(0), "target": Decimal(target),
                          "current": Decimal(current), "due_on": _END},
            )
        projects.append(project)
    return projects


def ensure_episodes(departments: dict) -> list[TvEpisode]:
    """The seven 2021 episodes, the 21 departments questioned and the 17 mechanisms set up after them."""
    episodes = []
    for aired_on, title, codes, mechanisms in EPISODES:
        episode, created = TvEpisode.objects.get_or_create(aired_on=aired_on, defaults={"title": title})
        if created:
            episode.departments.set([departments[code] for code in codes])
        for offset, (mechanism, code) in enumerate(mechanisms):
            Mechanism.objects.get_or_create(
                episode=episode,
                title=mechanism,
                defaults={"department": departments[code],
                          "established_on": min(aired_on + dt.timedelta(days=14 + 3 * offset), _END)},
            )
        episodes.append(episode)
    return episodes
