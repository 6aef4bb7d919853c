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
    categories: tuple  # ((category, weight), …)
    problems: tuple  # phrasings with {place}
    resolved: tuple  # replies when resolved, with {place}
    assist: tuple = ()  # departments that may assist
    months: tuple = ()  # months when it is common; empty: all year
    explained: tuple = ()  # topic-specific explanations; else the generic ones


TOPICS = (
    Topic("路灯", 5, ((LOCAL, 1),), ((C.COMPLAINT, 5), (C.HELP, 3), (C.SUGGESTION, 2)),
          ("{place}的路灯不亮", "{place}路灯坏了，晚上一片漆黑", "{place}一排路灯晚上全黑", "{place}路灯白天亮晚上不亮",
           "{place}没有路灯，希望安装路灯"),
          ("经现场核查，{place}路灯因线路老化损坏，已更换线路和灯具，恢复正常照明。",
           "已安排维修人员对{place}路灯进行检修，现已全部亮灯。"),
          assist=("gongdian",)),
    Topic("暖气", 5, (("gongre", 1),), ((C.COMPLAINT, 6), (C.HELP, 4)),
          ("{place}家里暖气不热，室温只有十二三度", "{place}暖气片冰凉，家里老人孩子受冻", "{place}供暖温度不达标，暖气不热",
           "{place}暖气漏水，找供热公司一直没人来修", "{place}交了取暖费暖气却不热"),
          ("供热公司已派人入户测温，对{place}管网进行排气和清洗，室温已达到18度以上。",
           "经检查，{place}暖气管道堵塞，已疏通，供暖恢复正常。"),
          months=(1, 2, 3, 11, 12)),
    Topic("讨薪", 4, (("renshe", 1),), ((C.HELP, 6), (C.COMPLAINT, 4)),
          ("在{place}附近工地打工，老板拖欠工资两万多元，讨薪无门", "{place}一家企业拖欠十几名工人工资，讨薪未果",
           "在{place}干装修活被拖欠工资，多次讨薪没有结果", "{place}农民工讨薪，包工头跑了联系不上"),
          ("人社局劳动监察大队已约谈用工单位，督促其足额支付拖欠工资，诉求人已领到工资。",
           "经调解，用工方已将拖欠的工资全部结清。"),
          assist=(OFFICE,)),
    Topic("物业", 4, (("zhujian", 1),), ((C.COMPLAINT, 5), (C.SUGGESTION, 3), (C.HELP, 2)),
          ("{place}小区无物业，垃圾没人清理", "{place}小区无物业管理，楼道灯坏了没人修", "{place}物业不作为，电梯经常停运",
           "{place}物业收费不公开，服务差", "{place}小区没有物业，希望引进物业服务"),
          ("住建局已协调{place}小区成立业主委员会，引入物业服务企业，签订物业服务合同。",
           "已督促物业公司整改，{place}环境卫生和设施维修已恢复正常。"),
          assist=(OFFICE,)),
    Topic("道路", 4, (("jiaotong", 2), (LOCAL, 2)), ((C.COMPLAINT, 5), (C.SUGGESTION, 5)),
          ("{place}道路破损，坑洼不平", "{place}路面塌陷，车辆通行困难", "{place}道路破损严重，雨天全是泥",
           "{place}村村通道路年久失修，希望硬化"),
          ("已对{place}道路破损路段进行修补，恢复正常通行。", "{place}道路已纳入今年农村公路改造计划，现已完成硬化。"),
          assist=("chengguan",)),
    Topic("不动产证", 3, (("budongchan", 3), ("ziranziyuan", 1)), ((C.HELP, 5), (C.CONSULTATION, 5)),
          ("{place}买的商品房住了多年办不下不动产证", "{place}回迁房不动产证迟迟办不了", "咨询{place}的房子怎么办理不动产证",
           "{place}小区开发商欠费，业主办不了不动产证"),
          ("不动产登记中心已开通绿色通道，{place}业主的不动产证已集中办理完毕。",
           "已向诉求人说明不动产证办理所需材料和流程，现已办结。"),
          assist=("zhujian", "shenpi")),
    Topic("垃圾", 4, ((LOCAL, 1),), ((C.COMPLAINT, 7), (C.SUGGESTION, 3)),
          ("{place}垃圾长期无人清运，臭气熏天", "{place}垃圾堆成山，没人管", "{place}垃圾桶太少，垃圾满地",
           "{place}有人乱倒建筑垃圾"),
          ("已组织环卫人员对{place}垃圾进行清运，并增设垃圾桶。", "已清理{place}建筑垃圾，并安排专人巡查。")),
    Topic("停水", 3, (("gongshui", 1),), ((C.COMPLAINT, 5), (C.HELP, 5)),
          ("{place}经常停水，也不提前通知", "{place}自来水发黄有异味", "{place}水压低，楼上用不上水", "{place}停水两天了还没来水"),
          ("供水公司已抢修{place}供水管道，恢复正常供水。", "已对{place}管网进行冲洗，经检测水质符合标准。")),
    Topic("停电", 3, (("gongdian", 1),), ((C.COMPLAINT, 5), (C.HELP, 5)),
          ("{place}频繁停电，影响生活", "{place}电压不稳，电器经常烧坏", "{place}停电一整天也没人来修", "{place}变压器容量不够，夏天总跳闸"),
          ("供电公司已更换{place}变压器，供电恢复稳定。", "已对{place}线路进行改造，电压恢复正常。"),
          months=(6, 7, 8, 12, 1)),
    Topic("噪音", 2, (("shengtai", 2), ("chengguan", 1)), ((C.COMPLAINT, 8), (C.WRONGDOING, 2)),
          ("{place}工地夜间施工噪音扰民", "{place}广场舞音响噪音太大", "{place}有工厂夜里机器噪音很大", "{place}商户高音喇叭噪音扰民"),
          ("已责令{place}施工单位停止夜间施工，噪音问题已解决。", "已对{place}噪音源进行查处，并告知商户整改。")),
    Topic("油烟", 2, (("shengtai", 2), ("chengguan", 1)), ((C.COMPLAINT, 8), (C.WRONGDOING, 2)),
          ("{place}饭店油烟直排，熏得没法开窗", "{place}烧烤摊油烟扰民", "{place}餐馆没有安装油烟净化设备"),
          ("已督促{place}餐饮店安装油烟净化设施，经复查已整改到位。",)),
    Topic("污水", 2, (("shengtai", 1), ("zhujian", 1), (OFFICE, 1)), ((C.COMPLAINT, 6), (C.WRONGDOING, 4)),
          ("{place}污水横流，臭味很大", "{place}下水道堵塞，污水冒到路上", "{place}有企业偷排污水"),
          ("已疏通{place}下水管网，污水问题已解决。", "已对{place}排污企业立案查处，责令停产整改。")),
    Topic("违建", 2, (("ziranziyuan", 1), ("chengguan", 1)), ((C.WRONGDOING, 6), (C.COMPLAINT, 4)),
          ("{place}有人私搭乱建，占用公共通道", "{place}楼顶违建，存在安全隐患", "{place}占用耕地违法建房"),
          ("已依法拆除{place}违法建筑，恢复原状。",)),
    Topic("占道", 2, (("chengguan", 1),), ((C.COMPLAINT, 7), (C.SUGGESTION, 3)),
          ("{place}商户占道经营，行人没法走", "{place}早市占道，堵塞交通", "{place}占道摆摊，影响通行"),
          ("城管局已对{place}占道经营进行整治，划定临时摊点区域。",)),
    Topic("停车", 1.5, (("chengguan", 1), ("jiaotong", 1)), ((C.COMPLAINT, 6), (C.SUGGESTION, 4)),
          ("{place}乱停车堵住消防通道", "{place}停车难，希望增加停车位", "{place}车辆乱停乱放无人管理"),
          ("已在{place}施划停车位并加强巡查，乱停车现象明显改善。",)),
    Topic("学校", 2, (("jiaoyu", 1),), ((C.CONSULTATION, 5), (C.SUGGESTION, 3), (C.COMPLAINT, 2)),
          ("咨询{place}孩子入学划片问题", "{place}学校门口上下学时段交通拥堵", "{place}校车接送不安全", "{place}学校乱收费"),
          ("教育局已向家长解释{place}入学划片政策，孩子已正常入学。", "已协调交警在{place}学校门口设置护学岗。"),
          assist=("jiaotong",), months=(3, 8, 9, 10)),
    Topic("低保", 2, (("minzheng", 1),), ((C.HELP, 6), (C.CONSULTATION, 4)),
          ("{place}家庭困难，申请低保一直没批", "咨询{place}低保申请条件", "{place}低保金没有按时发放"),
          ("民政局已入户核查，{place}诉求人符合条件，已纳入低保。", "已向诉求人说明低保申请条件和流程。"),
          assist=(OFFICE,)),
    Topic("养老", 2, (("minzheng", 1),), ((C.HELP, 5), (C.CONSULTATION, 3), (C.SUGGESTION, 2)),
          ("{place}高龄补贴没有发放", "{place}希望建一个老年人日间照料中心", "{place}老人无人照顾，申请养老服务"),
          ("民政局已核实{place}高龄补贴发放情况，补发到位。", "{place}邻里互助养老点已建成投用。")),
    Topic("医疗", 1.5, (("weijian", 1),), ((C.COMPLAINT, 5), (C.CONSULTATION, 5)),
          ("{place}卫生室没有医生坐诊", "{place}医院看病排队太久", "咨询{place}新冠疫苗接种地点和时间", "{place}医院乱收费"),
          ("卫健局已安排乡村医生到{place}卫生室坐诊。", "已告知诉求人{place}疫苗接种点和时间。")),
    Topic("社保", 1.5, (("renshe", 1),), ((C.CONSULTATION, 6), (C.HELP, 4)),
          ("咨询{place}城乡居民养老保险缴费", "{place}社保卡办理进度慢", "{place}企业不给交社保"),
          ("已为诉求人办理社保卡，并说明养老保险缴费政策。", "已责令{place}企业为职工补缴社保。")),
    Topic("食品", 1.5, (("shichang", 1),), ((C.WRONGDOING, 6), (C.COMPLAINT, 4)),
          ("{place}超市销售过期食品", "{place}小饭馆卫生条件差，食品不安全", "{place}早点摊使用地沟油"),
          ("市场监管局已对{place}商户立案调查，下架过期食品并罚款。",)),
    Topic("价格", 1, (("shichang", 1),), ((C.COMPLAINT, 6), (C.WRONGDOING, 4)),
          ("{place}商户乱收费、价格不明码标价", "{place}加油站价格欺诈", "{place}停车场乱收费"),
          ("已对{place}商户价格违法行为进行查处，责令退还多收费用。",)),
    Topic("电梯", 1, (("shichang", 1), ("zhujian", 1)), ((C.COMPLAINT, 6), (C.HELP, 4)),
          ("{place}电梯经常故障困人", "{place}电梯年检过期仍在运行"),
          ("已责令{place}电梯维保单位检修，经检验合格后恢复运行。",)),
    Topic("积水", 1.5, (("shuili", 1), ("chengguan", 1)), ((C.COMPLAINT, 6), (C.HELP, 4)),
          ("{place}一下雨就积水，出行困难", "{place}排水不畅，雨后积水进院", "{place}河道淤堵，汛期有隐患"),
          ("已对{place}排水管网进行清淤疏通，积水问题已解决。", "已对{place}河道进行清淤。"),
          months=(6, 7, 8, 9)),
    Topic("河道", 1, (("shuili", 1),), ((C.COMPLAINT, 5), (C.SUGGESTION, 5)),
          ("{place}河道垃圾多，无人清理", "{place}河道有人非法采砂"),
          ("已对{place}河道垃圾进行清理，落实河长巡河制度。",)),
    Topic("秸秆", 1, (("shengtai", 1), ("nongye", 1)), ((C.WRONGDOING, 6), (C.SUGGESTION, 4)),
          ("{place}有人焚烧秸秆，烟雾很大", "{place}秸秆乱堆，存在火灾隐患"),
          ("已制止{place}焚烧秸秆行为，并开展禁烧宣传。",),
          months=(6, 10, 11)),
    Topic("补贴", 1.5, (("nongye", 1),), ((C.CONSULTATION, 6), (C.HELP, 4)),
          ("咨询{place}农机购置补贴怎么申请", "{place}耕地地力保护补贴没有到账", "{place}种粮补贴发放不及时"),
          ("农业农村局已核实{place}补贴发放情况，补贴已到账。", "已向诉求人说明补贴申请流程。")),
    Topic("土地", 1, (("ziranziyuan", 1), (OFFICE, 1)), ((C.HELP, 5), (C.COMPLAINT, 5)),
          ("{place}土地确权面积有误", "{place}宅基地纠纷多年未解决", "{place}征地补偿款未到位"),
          ("已组织{place}村委会和有关各方现场勘验，纠纷已调解。",)),
    Topic("审批", 1.5, (("shenpi", 1),), ((C.CONSULTATION, 6), (C.COMPLAINT, 4)),
          ("咨询在{place}开店办理营业执照的流程", "{place}办理审批手续跑了好几趟", "{place}施工许可审批时间太长"),
          ("行政审批局已实行一窗受理，诉求人的审批事项已办结。", "已向诉求人说明办理营业执照的材料和流程。")),
    Topic("公交", 1, (("jiaotong", 1),), ((C.SUGGESTION, 7), (C.COMPLAINT, 3)),
          ("建议开通到{place}的公交线路", "{place}公交班次太少，等车时间长", "{place}公交站牌损坏"),
          ("交通运输局已调整线路，增加{place}公交班次。",)),
    Topic("村务", 1.5, ((OFFICE, 1),), ((C.WRONGDOING, 5), (C.COMPLAINT, 5)),
          ("{place}村务不公开，账目不清", "{place}村干部优亲厚友", "{place}村集体土地承包不透明"),
          ("乡镇纪委已对{place}村务进行核查，已督促村委会公开账目。",)),
    Topic("广场", 1, ((LOCAL, 1), ("chengguan", 1)), ((C.SUGGESTION, 8), (C.COMPLAINT, 2)),
          ("建议在{place}建一个口袋公园", "{place}缺少健身器材和小游园", "{place}广场健身器材损坏"),
          ("已在{place}建成小游园并安装健身器材。",)),
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
IMPACTS = ("，严重影响日常生活", "，群众意见很大", "，老人孩子出行不安全", "，给周边居民带来很大不便", "", "")
REQUESTS = ("希望有关部门尽快处理。", "请尽快解决。", "盼回复。", "望相关部门予以重视。", "希望给个说法。", "请相关部门核实处理。")
OPENERS = {
    "hotline": ("", "", "来电人反映：", "来电反映，"),
    "sunshine": ("", "网民留言：", "尊敬的领导：", ""),
    "portal": ("", "网民留言：", "领导您好，", ""),
    "visit": ("", "", "入户走访时群众反映：", "走访中村民反映，"),
    "other": ("", "来信反映：", ""),
    "tv": ("电视问政节目曝光：", "电视问政现场反映："),
}


def place(rng: random.Random, township_name: str, village_name: str | None, community: bool) -> str:
    """Where the problem is: a village or community and a spot in it."""
    if village_name is None:
        return township_name + rng.choice(("政府驻地", "集市", "中心街", "镇区"))
    if community:
        return village_name + (f"{rng.randint(1, 24)}号楼" if rng.random() < 0.4 else rng.choice(COMMUNITY_SPOTS))
    return village_name + rng.choice(VILLAGE_SPOTS)


def suggestion_content(rng: random.Random, topic: Topic, where: str, channel: str) -> str:
    """One citizen's words: an opener for the channel, the problem, how long, the impact, the request."""
    problem = rng.choice(topic.problems).format(place=where)
    return (rng.choice(OPENERS[channel]) + problem + rng.choice(DURATIONS) + rng.choice(IMPACTS) + "，"
            + rng.choice(REQUESTS)).replace("，，", "，")


def reply_text(rng: random.Random, topic: Topic, where: str, outcome: str) -> str:
    """The department's answer for an outcome (resolved, explained, unresolvable)."""
    if outcome == "resolved":
        return rng.choice(topic.resolved).format(place=where)
    if outcome == "explained":
        return rng.choice(topic.explained or EXPLANATIONS).format(place=where)
    return rng.choice(UNRESOLVABLE)


ASSIST_REPLIES = ("已派员配合主办单位到{place}现场核查，相关情况已反馈主办单位。", "本单位已按职责完成协办事项，{place}相关问题已配合处理。",
                  "已配合主办单位制定整改方案，并提供相关资料。")
PROGRESS_NOTES = ("已安排专人到现场核实情况。", "已联系诉求人了解详细情况。", "正在协调相关单位制定解决方案。", "已完成现场勘查，正在组织施工。",
                  "已列入近期工作计划，正在推进。")
EXTENSION_REASONS = ("涉及多个部门协调，需要更多时间。", "需等待材料审批，申请延期。", "施工受天气影响，无法按期完成。", "需要统筹资金，申请延期办理。")
EXTENSION_REFUSALS = ("理由不充分，请按期办结。", "该事项不复杂，应在原时限内办结。")
RETURN_REASONS = ("该事项不属于本单位职责范围，请重新交办。", "经核实，该问题应由属地乡镇负责。", "该事项属于其他部门管辖，申请退回。")
RETURN_REFUSALS = ("该事项属于本单位职责，请继续办理。", "退单理由不成立，请按期办理。")
SUPERVISION_NOTES = ("已超期，请加快办理。", "群众反映强烈，列入督办。", "多次反映未解决，列为重点督办。")
REVIEW_NOTES = ("请相关部门尽快办理。", "同意，按程序交办。", "请抓紧落实，及时回复群众。", "")
UNSATISFIED_NOTES = ("诉求人表示问题没有解决。", "诉求人对答复不满意，要求重新办理。", "问题反弹，诉求人不满意。")
LOOK_BACK_NOTES = ("回头看复查发现问题反弹，重新交办。", "回头看抽查发现整改不到位。")
CLOSE_WITHOUT_CALLBACK = ("诉求人电话无法接通，回访未果。", "匿名诉求，无法回访。")
