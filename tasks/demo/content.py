"""What the generated citizens write about: topics × places × phrasings, and the departments' replies.

Each topic carries its own two-character key words (路灯, 暖气, 讨薪, 物业 …) in every
phrasing, so searching the demo for a two-character term finds that topic and little else.
"""

import dataclasses
import random

from feedback.models import Category

C = Category
# The lead department: a code, or "@office" (the township's own office), or "@local"
# (城管局 in the city's street offices, the township office elsewhere).
OFFICE, LOCAL = "@office", "@local"


@dataclasses.dataclass(frozen=True)
class Topic:
    key: str
    weight: float
    departments: tuple  # ((code, weight), …)
    # (category, what the citizen says with {place}, the department's reply when resolved with {place})
    phrases: tuple
    assist: tuple = ()  # departments that may assist
    months: tuple = ()  # months when it is common; empty: all year
    # A personal matter (wages, benefits, certificates): {place} is the citizen ("X村村民"),
    # not a spot in the village, and the impacts are the family's, not the street's.
    personal: bool = False
    impacts: tuple = ()  # how it hurts, topic-specific; else the generic ones


CO, HE, CP, SU, WR = C.CONSULTATION, C.HELP, C.COMPLAINT, C.SUGGESTION, C.WRONGDOING

TOPICS = (
    Topic("路灯", 5, ((LOCAL, 1),), (
        (CP, "{place}的路灯不亮", "经现场核查，{place}路灯因线路老化损坏，已更换线路和灯具，恢复正常照明。"),
        (CP, "{place}路灯坏了，晚上一片漆黑", "已安排维修人员对{place}路灯进行检修，现已全部亮灯。"),
        (HE, "{place}一排路灯晚上全黑，找了村里也修不了", "已协调供电部门对{place}路灯线路进行抢修，现已恢复照明。"),
        (CP, "{place}路灯白天亮晚上不亮", "已更换{place}路灯控制器，路灯按时开关。"),
        (SU, "{place}没有路灯，希望安装路灯", "已在{place}新装路灯8盏，纳入城乡路灯统一管理。"),
    ), assist=("gongdian",), impacts=("，晚上出行很不方便", "，老人孩子晚上出门不安全", "，晚上经常有人摔倒")),
    Topic("暖气", 5, (("gongre", 1),), (
        (CP, "{place}家里暖气不热，室温只有十二三度", "供热公司已派人入户测温，对{place}管网进行排气和清洗，室温已达到18度以上。"),
        (CP, "{place}家里暖气片冰凉", "经检查，{place}暖气管道堵塞，已疏通，供暖恢复正常。"),
        (HE, "{place}家里暖气漏水，找供热公司一直没人来修", "供热公司已上门更换漏水阀门，供暖恢复正常。"),
        (CP, "{place}交了取暖费暖气却不热", "已对{place}供热管网进行水力平衡调节，经复测室温达标。"),
    ), months=(1, 2, 3, 11, 12), personal=True, impacts=("，家里老人孩子受冻", "，晚上冻得睡不着觉")),
    Topic("讨薪", 4, (("renshe", 1),), (
        (HE, "{place}在附近工地打工，老板拖欠工资两万多元，讨薪无门",
         "人社局劳动监察大队已约谈用工单位，督促其足额支付拖欠工资，诉求人已领到工资。"),
        (CP, "{place}反映一家企业拖欠十几名工人工资，讨薪未果", "经劳动监察大队调查，企业已将拖欠的工资全部结清。"),
        (HE, "{place}干装修活被拖欠工资，多次讨薪没有结果", "经调解，雇主已将拖欠的工资当面结清。"),
        (HE, "{place}反映包工头拖欠农民工工资后跑了，讨薪无门", "已责令总承包单位先行垫付农民工工资，工资已全部发放。"),
    ), assist=(OFFICE,), personal=True, impacts=("，家里等着钱过年", "，孩子上学的学费都交不上")),
    Topic("物业", 4, (("zhujian", 1),), (
        (CP, "{place}小区无物业，垃圾没人清理", "住建局已协调{place}小区成立业主委员会，引入物业服务企业，签订物业服务合同。"),
        (HE, "{place}小区无物业管理，楼道灯坏了没人修", "已由社区牵头对{place}小区实行托管，楼道灯已修复。"),
        (CP, "{place}物业不作为，电梯经常停运", "已督促物业公司整改，{place}电梯已维修并恢复运行。"),
        (CP, "{place}物业收费不公开，服务差", "已责令物业公司公示收费项目和标准，服务质量纳入考核。"),
        (SU, "{place}小区没有物业，希望引进物业服务", "{place}小区已签订物业服务合同，物业公司已进驻。"),
    ), assist=(OFFICE,)),
    Topic("道路", 4, (("jiaotong", 2), (LOCAL, 2)), (
        (CP, "{place}道路破损，坑洼不平", "已对{place}道路破损路段进行修补，恢复正常通行。"),
        (CP, "{place}路面塌陷，车辆通行困难", "已对{place}塌陷路面进行回填和硬化，恢复通行。"),
        (SU, "{place}道路年久失修，希望硬化", "{place}道路已纳入今年农村公路改造计划，现已完成硬化。"),
    ), assist=("chengguan",), impacts=("，车辆通行困难", "，老人孩子出行不安全", "，下雨天根本没法走")),
    Topic("不动产证", 3, (("budongchan", 3), ("ziranziyuan", 1)), (
        (HE, "{place}反映买的商品房住了多年办不下不动产证", "不动产登记中心已开通绿色通道，{place}业主的不动产证已集中办理完毕。"),
        (HE, "{place}反映回迁房不动产证迟迟办不了", "已会同住建部门完善回迁房手续，不动产证已发放到户。"),
        (CO, "{place}咨询自建房怎么办理不动产证", "已向诉求人说明农村自建房不动产登记所需材料和流程。"),
        (HE, "{place}反映开发商欠费，业主办不了不动产证", "已实行“证缴分离”，业主的不动产证已先行办理。"),
    ), assist=("zhujian", "shenpi"), personal=True, impacts=("，孩子上学要用房产证", "，房子没法过户")),
    Topic("垃圾", 4, ((LOCAL, 1),), (
        (CP, "{place}垃圾长期无人清运，臭气熏天", "已组织环卫人员对{place}垃圾进行清运，并明确专人每日清运。"),
        (CP, "{place}垃圾堆成山，没人管", "已清理{place}积存垃圾，并纳入城乡环卫一体化管理。"),
        (SU, "{place}垃圾桶太少，希望增设", "已在{place}增设垃圾桶10个。"),
        (WR, "{place}有人乱倒建筑垃圾", "已清理{place}建筑垃圾，并对倾倒者依法处罚。"),
    ), impacts=("，夏天蚊蝇乱飞", "，臭味很大")),
    Topic("停水", 3, (("gongshui", 1),), (
        (CP, "{place}经常停水，也不提前通知", "供水公司已抢修{place}供水管道，并承诺计划停水提前告知。"),
        (CP, "{place}自来水发黄有异味", "已对{place}管网进行冲洗，经检测水质符合标准。"),
        (HE, "{place}水压低，楼上用不上水", "已为{place}加装二次供水设施，水压恢复正常。"),
        (HE, "{place}停水两天了还没来水", "供水公司已连夜抢修{place}爆裂管道，恢复供水。"),
    ), impacts=("，做饭洗衣都成问题",)),
    Topic("停电", 3, (("gongdian", 1),), (
        (CP, "{place}频繁停电", "供电公司已更换{place}老旧线路，供电恢复稳定。"),
        (CP, "{place}电压不稳，电器经常烧坏", "已对{place}线路进行改造，电压恢复正常。"),
        (HE, "{place}停电一整天也没人来修", "供电公司已抢修{place}故障线路，恢复供电。"),
        (SU, "{place}变压器容量不够，夏天总跳闸，希望增容", "已为{place}更换大容量变压器。"),
    ), months=(6, 7, 8, 12, 1)),
    Topic("噪音", 2, (("shengtai", 2), ("chengguan", 1)), (
        (CP, "{place}工地夜间施工噪音扰民", "已责令{place}施工单位停止夜间施工，噪音问题已解决。"),
        (CP, "{place}广场舞音响噪音太大", "已协调{place}广场舞队伍控制音量和时间。"),
        (WR, "{place}有工厂夜里机器噪音很大", "已对{place}工厂噪音超标行为立案查处，责令整改。"),
        (CP, "{place}商户高音喇叭噪音扰民", "已告知{place}商户停止使用高音喇叭。"),
    ), impacts=("，晚上睡不着觉",)),
    Topic("油烟", 2, (("shengtai", 2), ("chengguan", 1)), (
        (CP, "{place}饭店油烟直排，熏得没法开窗", "已督促{place}饭店安装油烟净化设施，经复查已整改到位。"),
        (CP, "{place}烧烤摊油烟扰民", "已取缔{place}露天烧烤摊。"),
        (WR, "{place}餐馆没有安装油烟净化设备", "已责令{place}餐馆限期安装油烟净化设备。"),
    )),
    Topic("污水", 2, (("shengtai", 1), ("zhujian", 1), (OFFICE, 1)), (
        (CP, "{place}污水横流，臭味很大", "已疏通{place}排水管网，污水问题已解决。"),
        (HE, "{place}下水道堵塞，污水冒到路上", "已组织疏通{place}下水道，并清理路面。"),
        (WR, "{place}有企业偷排污水", "已对{place}排污企业立案查处，责令停产整改。"),
    )),
    Topic("违建", 2, (("ziranziyuan", 1), ("chengguan", 1)), (
        (WR, "{place}有人私搭乱建，占用公共通道", "已依法拆除{place}私搭乱建，恢复通道。"),
        (WR, "{place}楼顶违建，存在安全隐患", "已责令当事人自行拆除{place}楼顶违建。"),
        (WR, "{place}占用耕地违法建房", "已依法拆除{place}违法建筑，恢复耕地原状。"),
    )),
    Topic("占道", 2, (("chengguan", 1),), (
        (CP, "{place}商户占道经营，行人没法走", "城管局已对{place}占道经营进行整治，商户已退店经营。"),
        (CP, "{place}早市占道，堵塞交通", "已为{place}早市划定临时摊点区域，疏通道路。"),
    )),
    Topic("停车", 1.5, (("chengguan", 1), ("jiaotong", 1)), (
        (CP, "{place}乱停车堵住消防通道", "已在{place}加强巡查，清理占用消防通道车辆。"),
        (SU, "{place}停车难，希望增加停车位", "已在{place}施划停车位50个。"),
    )),
    Topic("学校", 2, (("jiaoyu", 1),), (
        (CO, "{place}咨询孩子入学划片问题", "教育局已向家长解释入学划片政策，孩子已正常入学。"),
        (SU, "{place}反映学校门口上下学时段交通拥堵，建议设置护学岗", "已协调交警在{place}附近学校门口设置护学岗。"),
        (CP, "{place}反映校车接送不安全", "已对校车和驾驶员资质进行检查，停运不合格车辆。"),
        (WR, "{place}反映学校乱收费", "经查实，已责令学校退还违规收取的费用。"),
    ), assist=("jiaotong",), months=(3, 8, 9, 10), personal=True),
    Topic("低保", 2, (("minzheng", 1),), (
        (HE, "{place}反映家庭困难，申请低保一直没批", "民政局已入户核查，诉求人符合条件，已纳入低保。"),
        (CO, "{place}咨询低保申请条件", "已向诉求人说明低保申请条件和流程。"),
        (CP, "{place}反映低保金没有按时发放", "经核实，低保金已补发到位。"),
    ), assist=(OFFICE,), personal=True, impacts=("，家里老人常年吃药", "，一家人生活很困难")),
    Topic("养老", 2, (("minzheng", 1),), (
        (HE, "{place}反映家里老人的高龄补贴没有发放", "民政局已核实高龄补贴发放情况，补贴已补发到位。"),
        (SU, "{place}建议村里建一个老年人日间照料中心", "{place}邻里互助养老点已建成投用。"),
        (HE, "{place}反映家中老人无人照顾，申请养老服务", "已为老人安排居家养老上门服务。"),
    ), personal=True),
    Topic("医疗", 1.5, (("weijian", 1),), (
        (CP, "{place}反映卫生室没有医生坐诊", "卫健局已安排乡村医生到{place}卫生室坐诊。"),
        (CP, "{place}反映医院看病排队太久", "医院已增开门诊窗口并推行分时段预约。"),
        (CO, "{place}咨询新冠疫苗接种地点和时间", "已告知诉求人附近疫苗接种点和接种时间。"),
        (WR, "{place}反映医院乱收费", "经查实，已责令医院退还多收费用。"),
    ), personal=True),
    Topic("社保", 1.5, (("renshe", 1),), (
        (CO, "{place}咨询城乡居民养老保险怎么缴费", "已向诉求人说明城乡居民养老保险缴费档次和方式。"),
        (HE, "{place}反映社保卡办理进度慢", "已为诉求人加急办理社保卡，已领取。"),
        (CP, "{place}反映所在企业不给交社保", "已责令用人单位为职工补缴社保。"),
    ), personal=True),
    Topic("食品", 1.5, (("shichang", 1),), (
        (WR, "{place}超市销售过期食品", "市场监管局已对{place}超市立案调查，下架过期食品并罚款。"),
        (CP, "{place}小饭馆卫生条件差，食品不安全", "已责令{place}饭馆停业整顿。"),
        (WR, "{place}早点摊使用地沟油", "已对{place}早点摊进行抽检并依法查处。"),
    )),
    Topic("价格", 1, (("shichang", 1),), (
        (CP, "{place}商户乱收费、价格不明码标价", "已对{place}商户价格违法行为进行查处，责令明码标价。"),
        (WR, "{place}加油站价格欺诈", "已对{place}加油站立案查处，责令退还多收费用。"),
    )),
    Topic("电梯", 1, (("shichang", 1), ("zhujian", 1)), (
        (CP, "{place}电梯经常故障困人", "已责令{place}电梯维保单位检修，经检验合格后恢复运行。"),
        (WR, "{place}电梯年检过期仍在运行", "已对{place}电梯停用并督促年检。"),
    )),
    Topic("积水", 1.5, (("shuili", 1), ("chengguan", 1)), (
        (CP, "{place}一下雨就积水", "已对{place}排水管网进行清淤疏通，积水问题已解决。"),
        (HE, "{place}排水不畅，雨后积水进院", "已在{place}新建排水沟，积水已排除。"),
        (SU, "{place}附近河道淤堵，汛期有隐患，建议清淤", "已对{place}附近河道进行清淤。"),
    ), months=(6, 7, 8, 9), impacts=("，出行困难",)),
    Topic("河道", 1, (("shuili", 1),), (
        (CP, "{place}附近河道垃圾多，无人清理", "已对{place}附近河道垃圾进行清理，落实河长巡河制度。"),
        (WR, "{place}附近河道有人非法采砂", "已对{place}附近河道非法采砂行为依法查处。"),
    )),
    Topic("秸秆", 1, (("shengtai", 1), ("nongye", 1)), (
        (WR, "{place}有人焚烧秸秆，烟雾很大", "已制止{place}焚烧秸秆行为，并开展禁烧宣传。"),
        (SU, "{place}秸秆乱堆，存在火灾隐患，建议统一清运", "已组织对{place}秸秆进行统一收储和清运。"),
    ), months=(6, 10, 11)),
    Topic("补贴", 1.5, (("nongye", 1),), (
        (CO, "{place}咨询农机购置补贴怎么申请", "已向诉求人说明农机购置补贴申请流程。"),
        (HE, "{place}反映耕地地力保护补贴没有到账", "农业农村局已核实补贴发放情况，补贴已到账。"),
        (CP, "{place}反映种粮补贴发放不及时", "经核实，种粮补贴已全部发放到户。"),
    ), personal=True),
    Topic("土地", 1, (("ziranziyuan", 1), (OFFICE, 1)), (
        (HE, "{place}反映土地确权面积有误", "已组织对{place}土地进行重新测量，确权面积已更正。"),
        (HE, "{place}反映宅基地纠纷多年未解决", "已组织{place}和有关各方现场勘验，纠纷已调解。"),
        (CP, "{place}反映征地补偿款未到位", "经核实，征地补偿款已足额发放到户。"),
    ), personal=True),
    Topic("审批", 1.5, (("shenpi", 1),), (
        (CO, "{place}咨询开店办理营业执照的流程", "已向诉求人说明办理营业执照的材料和流程。"),
        (CP, "{place}反映办理审批手续跑了好几趟", "行政审批局已实行一窗受理，诉求人的审批事项已办结。"),
        (CP, "{place}反映施工许可审批时间太长", "已压缩施工许可审批时限，诉求人的许可证已发放。"),
    ), personal=True),
    Topic("公交", 1, (("jiaotong", 1),), (
        (SU, "建议开通到{place}的公交线路", "交通运输局已开通经过{place}的公交线路。"),
        (CP, "{place}公交班次太少，等车时间长", "交通运输局已调整线路，增加{place}公交班次。"),
    )),
    Topic("村务", 1.5, ((OFFICE, 1),), (
        (WR, "{place}反映村务不公开，账目不清", "乡镇纪委已对{place}村务进行核查，已督促公开账目。"),
        (WR, "{place}反映村干部优亲厚友", "经核查，已对相关村干部进行批评教育并责令整改。"),
        (CP, "{place}反映村集体土地承包不透明", "已督促{place}重新公开村集体土地承包情况。"),
    ), personal=True),
    Topic("广场", 1, ((LOCAL, 1), ("chengguan", 1)), (
        (SU, "建议在{place}建一个口袋公园", "已在{place}建成口袋公园。"),
        (SU, "{place}缺少健身器材和小游园", "已在{place}建成小游园并安装健身器材。"),
        (CP, "{place}广场健身器材损坏", "已更换{place}损坏的健身器材。"),
    )),
)

EXPLANATIONS = (
    "经核实，该问题已纳入明年工作计划，已向诉求人做好解释。",
    "经现场核查，情况与反映不符，已向诉求人说明情况。",
    "该事项需按程序办理，已向诉求人说明办理流程和所需材料。",
    "已向诉求人解释相关政策规定，诉求人表示理解。",
)
UNRESOLVABLE = (
    "该诉求不符合现行政策规定，暂无法解决，已向诉求人做好解释。",
    "涉及历史遗留问题，需上级部门统筹解决，已做好解释和记录。",
    "经核查，该事项属于民事纠纷，建议诉求人通过诉讼途径解决。",
)

VILLAGE_SPOTS = ("村东头", "村西头", "主街", "村委会门口", "小学门口", "十字路口", "南街", "北街", "后街", "村口", "文化广场",
                 "卫生室旁边", "村南", "村北")
COMMUNITY_SPOTS = ("小区门口", "小区北门", "东区", "西区", "楼下", "沿街门市", "小区广场", "单元门口", "幼儿园门口", "菜市场旁边")
DURATIONS = ("，已经有半个多月了", "，已经一个多月了", "，反映多次没有解决", "，好几天了", "，从上个月就开始了", "", "", "")
IMPACTS = ("，严重影响日常生活", "，群众意见很大", "，给周边居民带来很大不便", "", "")
PERSONAL_IMPACTS = ("，跑了好几趟都没办成", "，家里生活很困难", "", "")
REQUESTS = ("希望有关部门尽快处理。", "请尽快解决。", "盼回复。", "望相关部门予以重视。", "希望给个说法。", "请相关部门核实处理。")
ENDINGS = {
    C.CONSULTATION: ("盼回复。", "请予以解答。", "谢谢。", "希望告知办理流程。"),
    C.SUGGESTION: ("建议有关部门考虑。", "希望能够采纳。", "望相关部门研究解决。"),
    C.WRONGDOING: ("请有关部门依法查处。", "希望严肃处理。", "请相关部门核实处理。"),
}
OPENERS = {
    "hotline": ("", "", "来电人反映：", "来电反映，"),
    "sunshine": ("", "网民留言：", "尊敬的领导：", ""),
    "portal": ("", "网民留言：", "领导您好，", ""),
    "visit": ("", "", "入户走访时群众反映：", "走访记录："),
    "other": ("", "来信反映：", ""),
    "tv": ("电视问政节目曝光：", "电视问政现场反映："),
}


@dataclasses.dataclass(frozen=True)
class Place:
    spot: str  # where a problem in the street is: 东留早村村东头, 府前社区7号楼
    name: str  # the village or community itself: 东留早村 (the township when unknown)
    resident: str  # who raises a personal matter: 东留早村村民, 府前社区居民


def place(rng: random.Random, township_name: str, village_name: str | None, community: bool) -> Place:
    """Where the problem is: a spot in a village or community, the place itself, and its resident."""
    if village_name is None:
        spot = township_name + rng.choice(("政府驻地", "集市", "中心街", "镇区"))
        return Place(spot, township_name, township_name + "群众")
    if community:
        spot = village_name + (f"{rng.randint(1, 24)}号楼" if rng.random() < 0.4 else rng.choice(COMMUNITY_SPOTS))
        return Place(spot, village_name, village_name + "居民")
    return Place(village_name + rng.choice(VILLAGE_SPOTS), village_name, village_name + "村民")


def suggestion_content(rng: random.Random, topic: Topic, phrase: int, where: Place, channel: str) -> str:
    """One citizen's words: an opener for the channel, the problem, and an ending that fits its category."""
    category, problem, _reply = topic.phrases[phrase]
    problem = problem.format(place=where.resident if topic.personal else where.spot)
    if category in (C.CONSULTATION, C.SUGGESTION):
        ending = "，" + rng.choice(ENDINGS[category])
    else:
        impacts = topic.impacts + (PERSONAL_IMPACTS if topic.personal else IMPACTS)
        requests = ENDINGS[C.WRONGDOING] if category == C.WRONGDOING else REQUESTS
        ending = rng.choice(DURATIONS) + rng.choice(impacts) + "，" + rng.choice(requests)
    return rng.choice(OPENERS[channel]) + problem + ending


def reply_text(rng: random.Random, topic: Topic, phrase: int, where: Place, outcome: str) -> str:
    """The department's answer for an outcome (resolved, explained, unresolvable)."""
    if outcome == "resolved":
        return topic.phrases[phrase][2].format(place=where.name if topic.personal else where.spot)
    if outcome == "explained":
        return rng.choice(EXPLANATIONS)
    return rng.choice(UNRESOLVABLE)


ASSIST_REPLIES = ("已派员配合主办单位到{place}现场核查，相关情况已反馈主办单位。", "本单位已按职责完成协办事项，{place}相关问题已配合处理。",
                  "已配合主办单位制定整改方案，并提供相关资料。")
ASSIST_WAIVERS = ("协办事项已由主办单位自行解决，无需协办单位答复。", "协办单位职责已调整，经督查室同意免于答复。")
PROGRESS_NOTES = ("已安排专人到现场核实情况。", "已联系诉求人了解详细情况。", "正在协调相关单位制定解决方案。", "已完成现场勘查，正在组织施工。",
                  "已列入近期工作计划，正在推进。")
EXTENSION_REASONS = ("涉及多个部门协调，需要更多时间。", "需等待材料审批，申请延期。", "施工受天气影响，无法按期完成。", "需要统筹资金，申请延期办理。")
EXTENSION_REFUSALS = ("理由不充分，请按期办结。", "该事项不复杂，应在原时限内办结。")
# (reason code of TaskRequest.ReturnReason, words): most returns say the task is another unit's duty.
RETURN_REASONS = (("not_our_duty", "该事项不属于本单位职责范围，请重新交办。"), ("not_our_duty", "经核实，该问题应由属地乡镇负责。"),
                  ("not_our_duty", "该事项属于其他部门管辖，申请退回。"), ("incomplete_information", "诉求地址不详，无法核实，请补充信息后重新交办。"),
                  ("duplicate", "该诉求与已交办的工单重复。"))
RETURN_REFUSALS = ("该事项属于本单位职责，请继续办理。", "退单理由不成立，请按期办理。")
SUPERVISION_NOTES = ("已超期，请加快办理。", "群众反映强烈，列入督办。", "多次反映未解决，列为重点督办。")
REVIEW_NOTES = ("请相关部门尽快办理。", "同意，按程序交办。", "请抓紧落实，及时回复群众。", "")
UNSATISFIED_NOTES = ("诉求人表示问题没有解决。", "诉求人对答复不满意，要求重新办理。", "问题反弹，诉求人不满意。")
LOOK_BACK_NOTES = ("回头看复查发现问题反弹，重新交办。", "回头看抽查发现整改不到位。")
CLOSE_WITHOUT_CALLBACK = ("诉求人电话无法接通，回访未果。", "匿名诉求，无法回访。")
