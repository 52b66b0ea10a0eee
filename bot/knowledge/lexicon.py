"""Bilingual (English/Chinese) space-station vocabulary shared by the parser and the index.

Nothing here names a particular article: it is general domain vocabulary, so an article the bot has
never seen is read with the same words as the shipped ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.knowledge.text import ZH_DIGITS

# ---------------------------------------------------------------------------------------------
# Concepts: one id per meaning, with English and Chinese surface forms.  English forms may be
# phrases; they are stemmed word by word, so "circles" and "circle" land on the same concept.
# Chinese forms are matched as substrings (longest first) and should stay small units so that
# forward maximum matching of a question and exhaustive matching of a passage agree.
# ---------------------------------------------------------------------------------------------
_CONCEPTS: dict[str, tuple[str, str]] = {
    # the subject of most questions
    "station": (
        "iss|international space station|space station|station|outpost|orbiting laboratory|"
        "orbital laboratory|orbiting lab|orbital outpost",
        "国际空间站|空间站|太空站|站上",
    ),
    "earth": ("earth|planet|home planet|world|globe|our planet", "地球|全球|世界|星球"),
    "orbit": (
        "orbit|orbital|circle|lap|revolution|revolve|circumnavigate|go around|goes around|circling|"
        "fly around the earth|around the earth|around the world|around the planet",
        "轨道|绕|环绕|绕行|一圈|圈",
    ),
    "period": ("period|cycle", "周期"),
    "minute": ("minute|min", "分钟"),
    "hour": ("hour|hr", "小时|钟头"),
    "day": ("day|daily|days", "每天|一天|天数|每日|多少天|几天"),
    "week": ("week|weekly", "星期|周"),
    "month": ("month|monthly", "个月|月份"),
    "year": ("year|annual|yr", "年|年份|多少年|几年"),
    "altitude": (
        "altitude|elevation|height|above the earth|above earth|above the planet|above the surface|"
        "orbital height",
        "高度|海拔|多高|离地|距地|距离地面|距地面|高空|上空|离地面",
    ),
    "distance": ("distance|far|kilometer|kilometre|km|mile", "距离|公里|千米|英里|多远"),
    "cargo": ("cargo|supplies|supply|shipment|payload|freight|provisions", "货物|物资|补给|货运|载荷"),
    "temperature": (
        "temperature|temp|degree|celsius|fahrenheit|thermometer|temperature range",
        "温度|气温|摄氏度|华氏度|多少度|几度|温差",
    ),
    "cold": ("cold|colder|coldest|cool|freezing|frigid|chilly", "冷|最冷|寒冷|低温|严寒"),
    "hot": ("hot|hotter|hottest|warm|heat up|scorching", "最热|炎热|高温|很热|灼热|酷热"),
    "low": ("low|lowest|minimum|drop|fall", "最低|低至|低到|低|降到|降至"),
    "high": ("high|highest|maximum|peak|rise", "最高|高达|高至|升到|升至"),
    "night": (
        "night|nighttime|night side|dark|darkness|shadow|shade|unlit",
        "夜|夜间|夜晚|黑夜|背阳|黑暗|阴影|背光",
    ),
    "sun": (
        "sun|sunlit|sunny|sunlight|sunshine|daylight|daytime|sun side|sunward",
        "太阳|阳光|向阳|白天|日照|照射|光照",
    ),
    "side": ("side|hemisphere", "一侧|一面|侧|那面|这面"),
    "interior": ("interior|inside|indoors|cabin|internal", "内部|舱内|站内|里面"),
    "exterior": ("exterior|outside|external|outdoors", "外部|舱外|站外|外面"),
    "continuous": (
        "continuous|continuously|uninterrupted|nonstop|without a break|constant|constantly|"
        "permanent|permanently|nonstop",
        "连续|不间断|持续|一直|长期|不断",
    ),
    "presence": (
        "presence|occupied|occupy|inhabited|inhabit|occupation|habitation|in use|staffed|lived|living",
        "有人|驻留|驻守|常驻|有人驻留|使用|居住|载人",
    ),
    "people": (
        "people|person|human|individual|humans|man|woman|men|women",
        "人|人类|人员|人们|名人",
    ),
    "visit": (
        "visit|travel|been to|gone to|flown to|fly to|went to|go to|come to|visitor|guest|send|sent|dispatch",
        "访问|到访|造访|前往|去过|到过|登上|来到|飞往|拜访|送往|送上",
    ),
    "country": ("country|nation|nationality", "国家|国籍|个国家"),
    "crew": (
        "crew|crewmember|crew member|crewmate|crew mate|expedition|on board|aboard|onboard|"
        "team member|residents",
        "乘员|乘组|机组|成员|机组人员|在轨|长期考察组|考察组",
    ),
    "astronaut": (
        "astronaut|cosmonaut|taikonaut|spaceflyer|space traveler|spacefarer",
        "宇航员|航天员|太空人|宇航人员",
    ),
    "member": ("member|members|seat", "名成员|成员"),
    "first": ("first|initial|earliest|inaugural|maiden|original", "第一|首|首批|首个|第一批|最早|首次"),
    "arrive": (
        "arrive|arrival|reach|reached|docked|dock|get to|got to|join|joined",
        "抵达|到达|进驻|入驻|对接|加入",
    ),
    "launch": ("launch|lift off|liftoff|blast off|blastoff", "发射|升空|起飞"),
    "return": (
        "return|come back|came back|come home|came home|splashdown|splash down|land|landing|"
        "head home|headed home",
        "返回|回家|回到|着陆|返航|回来|溅落",
    ),
    "leave": ("leave|left|depart|departure|exit", "离开|撤离|离去|告别"),
    "undock": ("undock|undocking|separate|separation", "分离|脱离|解锁|撤离对接"),
    "photo": (
        "photo|photograph|picture|image|shot|snapshot|pic|album|imagery|photography",
        "照片|图片|画面|图像|相片|影像|相册|组图|新图",
    ),
    "camera": ("camera|lens", "相机|摄像机|镜头|照相机"),
    "take_photo": (
        "shoot|snap|capture|behind the camera",
        "拍|拍摄|拍下|摄|拍照|摄下|拍到",
    ),
    "photographer": ("photographer|cameraman|camerawoman", "摄影师|拍摄者|摄影者|摄影"),
    "credit": ("credit|courtesy|copyright|credited", "来源|版权|提供|供图|图片来源|出处"),
    "release": (
        "release|publish|share|post|unveil|issue|make public",
        "公布|发布|分享|公开|发表|放出",
    ),
    "new": ("new|latest|recent|newest|fresh", "最新|新的|全新|新一批"),
    "website": ("website|site|web|online|webpage|internet", "网站|网上|网页|官网|网络"),
    "see": ("see|look|watch|show|view|display|visible|saw|seen|viewed", "看|看到|观看|显示|展示|看见|查看"),
    "all": ("all|entire|whole|complete|full", "全部|所有|整个|完整|全套"),
    "module": ("module|node|segment", "模块|舱段|舱|节点"),
    "solar_array": (
        "solar array|solar panel|solar wing|solar arrays|solar panels",
        "太阳能阵列|太阳能电池板|太阳能板|太阳翼|太阳能帆板|帆板",
    ),
    "radiator": ("radiator|radiator panel", "散热器|散热板|辐射器|散热"),
    "thermal": ("thermal|heat|thermal control", "热控|热量|热控制|热能"),
    "damage": ("damage|debris|strike|impact|hit|hole|micrometeoroid", "损坏|受损|碎片|撞击|损伤|击中"),
    "spacecraft": ("spacecraft|capsule|vehicle|ship|spaceship", "飞船|航天器|太空船|载人飞船"),
    "dragon": ("crew dragon|dragon|endeavour|endeavor|resilience|endurance", "龙飞船|载人龙飞船|奋进号"),
    "soyuz": ("soyuz", "联盟号"),
    "shuttle": ("space shuttle|shuttle", "航天飞机"),
    "flyaround": ("flyaround|fly around|fly-around|flyby|fly by", "环绕飞行|绕飞|绕站飞行"),
    "fly": ("fly|flight|flew|flown|flying|soar", "飞行|飞|飞过|飞越"),
    "speed": ("speed|fast|velocity|mph|how fast|quickly", "速度|多快|时速|速率|秒速"),
    "mass": (
        "mass|weigh|weight|heavy|ton|tonne|kilogram|kilogramme|kg|pound|lb",
        "重量|质量|多重|吨|公斤|千克|磅",
    ),
    "size": ("size|big|large|length|wide|width|dimension|volume", "大小|尺寸|长度|宽度|体积|面积|多大"),
    "cost": ("cost|price|budget|expensive|dollar", "成本|花费|造价|费用|预算|美元"),
    "agency": (
        "agency|space agency|organization|organisation|administration|work for|works for",
        "机构|航天局|航天机构|组织|单位|空间局",
    ),
    "current": (
        "current|currently|now|right now|present|presently|today|at the moment|these days",
        "目前|现在|当前|如今|现任|眼下",
    ),
    "say": ("say|said|told|state|remark|comment|describe", "说|表示|称|谈到|描述|认为|说道"),
    "feel": ("feel|felt|feeling|emotion|sweet|bittersweet|happy", "感觉|感受|感到|心情"),
    "hope": ("hope|hopeful|inspire|inspiration", "希望|鼓舞|激励"),
    "sad": ("sad|sadness|sorrow|melancholy", "难过|伤心|悲伤"),
    "start": ("begin|began|begun|start|started", "开始|着手"),
    "mission": ("mission", "任务|使命"),
    "research": ("research|experiment|science|scientific|study", "研究|实验|科学|科研"),
    "spacewalk": ("spacewalk|eva|extravehicular", "太空行走|出舱|舱外活动"),
    "commander": ("commander|captain", "指令长|指挥官|舱长"),
    "engineer": ("flight engineer|engineer", "飞行工程师|工程师"),
    "role": ("role|job|position|duty|responsibility", "职务|角色|职位|职责|担任"),
    "mars": ("mars|martian", "火星"),
    "moon": ("moon|moons|lunar", "月球|月亮|卫星"),
    "satellite": ("satellite", "人造卫星"),
    "telescope": ("telescope|hubble|james webb", "望远镜|哈勃"),
    "jupiter": ("jupiter|saturn|venus|mercury|pluto", "木星|土星|金星|水星|冥王星"),
    "world_cup": ("world cup|football|soccer|olympics|championship", "世界杯|足球|奥运会|冠军"),
    "capital": ("capital", "首都"),
    "win": ("win|won|winner|victory", "赢|获胜|赢得|夺冠"),
    "usa": ("united states|usa|america|american|u.s.", "美国"),
    "russia": ("russia|russian", "俄罗斯|俄国"),
    "europe": ("europe|european", "欧洲"),
    "japan": ("japan|japanese", "日本"),
    "canada": ("canada|canadian", "加拿大"),
    "china": ("china|chinese", "中国"),
    "france": ("france|french", "法国"),
    "germany": ("germany|german", "德国"),
    "italy": ("italy|italian", "意大利"),
    "india": ("india|indian", "印度"),
    "spacex": ("spacex", "太空探索技术公司"),
    # ISS modules (general station vocabulary)
    "module_zarya": ("zarya", "曙光号"),
    "module_unity": ("unity", "团结号"),
    "module_zvezda": ("zvezda", "星辰号"),
    "module_destiny": ("destiny", "命运号"),
    "module_harmony": ("harmony", "和谐号"),
    "module_tranquility": ("tranquility|tranquillity", "宁静号"),
    "module_columbus": ("columbus", "哥伦布号"),
    "module_kibo": ("kibo", "希望号"),
    "module_cupola": ("cupola", "穹顶舱"),
    "module_nauka": ("nauka", "科学号"),
    "time_place": ("while|during", "期间|时候|时"),
    "since": ("since|ever since", "自从|以来|至今"),
    "hear": ("hear|listen|sound", "听|听到|声音"),
    "sky": ("sky|heaven", "天空|空中"),
    "achieve": ("achieve|accomplish|attain", "实现|做到|完成"),
    "ability": ("ability|able|possible|can", "能力|能够"),
    "impossible": ("impossible|hard to reach|unreachable", "不可能|难以到达"),
    "structure": ("structure|component|part|hardware", "结构|部件|部分|组件"),
    "system": ("system", "系统"),
    "control": ("control|regulate|keep", "控制|调节|保持"),
    "comfortable": ("comfortable|pleasant|habitable", "舒适|宜人"),
    "angle": ("angle|perspective|viewpoint", "角度|视角"),
    "background": ("background|backdrop", "背景"),
    "space": ("space|outer space|cosmos", "太空|外太空|宇宙"),
    "black": ("black|dark", "黑色|黑暗"),
    "beautiful": ("beautiful|stunning|gorgeous|amazing|spectacular|breathtaking", "美丽|漂亮|壮观|震撼|精美"),
    "weekday": (
        "monday|tuesday|wednesday|thursday|friday|saturday|sunday",
        "周一|周二|周三|周四|周五|周六|周日|星期一|星期二|星期三|星期四|星期五|星期六|星期日",
    ),
}

# Question words become concepts too: they pick the kind of answer, never a passage.
_QUESTION_CONCEPTS: dict[str, tuple[str, str]] = {
    "q_count": (
        "how many|how much|number of|count of|what number|how many times",
        "多少|几|几个|几名|几位|多少个|多少名|多少位|几颗",
    ),
    "q_time": (
        "how long|how often|how much time|how quickly|how many minutes|how many hours",
        "多久|多长时间|多少时间|多长|几分钟|多少分钟|几个小时|多少小时|需要多久|要多久",
    ),
    "q_height": ("how high|how far above|how far up", "多高|有多高|多少米高"),
    "q_distance": ("how far", "多远"),
    "q_who": ("who|whom|whose|which person|which astronaut|what person", "谁|哪位|哪些人|什么人|哪个人|何人"),
    "q_when": (
        "when|what year|which year|what date|what month|which month|what time",
        "什么时候|何时|哪一年|哪年|哪一天|几月|什么时间|哪个月|多少年前|几号",
    ),
    "q_where": ("where|which website|what website", "哪里|哪儿|在哪|何处|什么地方"),
    "q_which": ("which|what", "哪个|哪些|什么|哪一个|哪家|哪种"),
    "q_how_cold": ("how cold", "多冷"),
    "q_how_hot": ("how hot", "多热"),
}

EN_STOPWORDS = frozenset(
    """
    a an the of to in on at by for from with about as into onto it its it's this that these those there
    here their they them he she his her him you your yours i me my we our us is are was were be been
    being am do does did doing done can could would should will shall may might must has have had
    having and or but not no yes so than then such too very just also only other each both if up out
    over after before ever still yet any some all more most much many what which who whom whose when
    where why how tell please know according article articles say says said get gets got make makes
    made go goes going went gone take takes took taken use used thing things way ways something
    anything happen happened happens kind sort lot lots really actually approximately roughly about
    around nearly almost exactly per like via while during one's let's does did isn't aren't wasn't
    weren't don't doesn't didn't can't cannot won't come comes came coming one time times
    experience experiences experienced encounter encounters undergo
    """.split()
)
# "said" and "all" carry meaning in these questions ("What did she say?"), so they stay.
EN_STOPWORDS = EN_STOPWORDS - {"said", "says", "say", "all"}

ZH_STOPWORDS = tuple(
    sorted(
        set(
            """
            的 了 是 在 有 吗 呢 吧 啊 呀 和 与 及 以及 也 都 就 还 又 被 把 从 对 向 给 让 会 能 可以 要 需要
            怎么 怎样 如何 这 那 这些 那些 一个 个 名 位 次 上 中 里 其 它 他 她 们 我 你 您 大约 大概 约 已经 曾经
            一共 总共 共 多 少 得 地 着 过 请问 请 文章 提到 提及 据 根据 为 为什么 是否 是不是 一 下 么 所 并 而
            但 但是 或 或者 之 该 此 等 等等 哦 嘛 吗 么 啥 些 每 关于 对于 有关 目前为止 告诉 知道 能否
            来自 属于 都有 分别 哪些是 一下 达到 能够 可能 可达
            """.split()
        ),
        key=len,
        reverse=True,
    )
)

# ---------------------------------------------------------------------------------------------
# Agencies: canonical short form → (English aliases, Chinese aliases, Chinese display name).
# ---------------------------------------------------------------------------------------------
AGENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "NASA": (
        ("NASA", "National Aeronautics and Space Administration", "U.S. space agency", "US space agency"),
        ("美国国家航空航天局", "美国航空航天局", "美国宇航局", "美国航天局", "美国太空总署"),
        "美国国家航空航天局",
    ),
    "ESA": (
        ("ESA", "European Space Agency"),
        ("欧洲航天局", "欧洲空间局", "欧空局", "欧航局"),
        "欧洲航天局",
    ),
    "Roscosmos": (
        (
            "Roscosmos",
            "Russian Space Agency",
            "Russian Federal Space Agency",
            "Russia's space agency",
            "State Space Corporation Roscosmos",
        ),
        ("俄罗斯国家航天集团", "俄罗斯联邦航天局", "俄罗斯航天局", "俄航天局", "俄罗斯国家航天公司"),
        "俄罗斯航天局",
    ),
    "JAXA": (
        ("JAXA", "Japan Aerospace Exploration Agency", "Japanese space agency"),
        ("日本宇宙航空研究开发机构", "日本宇宙航空研究机构", "日本航天局", "日本宇航局"),
        "日本宇宙航空研究开发机构",
    ),
    "CSA": (
        ("CSA", "Canadian Space Agency"),
        ("加拿大航天局", "加拿大空间局"),
        "加拿大航天局",
    ),
    "CNSA": (
        ("CNSA", "China National Space Administration"),
        ("中国国家航天局",),
        "中国国家航天局",
    ),
    "CMSA": (
        ("CMSA", "China Manned Space Agency", "China Manned Space Engineering Office"),
        ("中国载人航天工程办公室", "中国载人航天工程"),
        "中国载人航天工程办公室",
    ),
    "ISRO": (
        ("ISRO", "Indian Space Research Organisation", "Indian Space Research Organization"),
        ("印度空间研究组织",),
        "印度空间研究组织",
    ),
    "MBRSC": (
        ("MBRSC", "Mohammed bin Rashid Space Centre", "UAE Space Agency"),
        ("阿联酋航天局", "穆罕默德·本·拉希德航天中心"),
        "阿联酋航天局",
    ),
    "Axiom Space": (("Axiom Space",), ("公理太空公司",), "公理太空公司"),
}

# Stations an article or a question can be about; questions naming one only see that one.
STATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
    # id: (English aliases, Chinese aliases, English display, Chinese display)
    "iss": (("ISS", "International Space Station"), ("国际空间站",), "the ISS", "国际空间站"),
    "tiangong": (
        ("Tiangong", "Chinese space station", "China's space station", "Tiangong space station"),
        ("天宫空间站", "天宫", "中国空间站"),
        "Tiangong",
        "天宫空间站",
    ),
    "mir": (("Mir",), ("和平号",), "Mir", "和平号空间站"),
    "skylab": (("Skylab",), ("天空实验室",), "Skylab", "天空实验室"),
}

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}

# Words that look like names when capitalised but are not people.
NON_NAME_WORDS = frozenset(
    """
    the a an this that these those it he she they we i you his her their our its and or but of in on at by
    for from with to as is are was were be also on board aboard current new first last next former
    international space station crew dragon agency european russian american japanese canadian chinese
    indian national administration expedition mission flight commander pilot engineer astronaut
    cosmonaut taikonaut specialist module harmony endeavour endeavor resilience endurance soyuz progress
    spacex nasa esa jaxa roscosmos earth moon mars sun credit image photo picture caption courtesy
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december center centre laboratory lab science scientist
    director manager officials official program programme project company corporation institute
    university north south east west united states kingdom europe russia china japan canada india
    here there when while after before during in over around more than about it's orbital orbit
    dear mr mrs ms dr professor capt col lt gen the station's
    """.split()
)

ROLE_WORDS = {
    "commander": "commander",
    "pilot": "pilot",
    "flight engineer": "flight engineer",
    "mission specialist": "mission specialist",
    "payload specialist": "payload specialist",
    "指令长": "commander",
    "飞行工程师": "flight engineer",
    "任务专家": "mission specialist",
}

_EN_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "dozen": 12,
}
EN_NUMBER_WORDS = _EN_NUMBER_WORDS
EN_NUMBER_WORD_RE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|"
    r"seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|a dozen|dozen)"
    r"(?: hundred(?:(?: and)? (?:[a-z]+(?:-[a-z]+)?))?)?"
)

_ZH_DIGITS = ZH_DIGITS
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
ZH_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万"

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
LATIN_WORD_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")


def normalize_text(text: str) -> str:
    """NFKC-normalise and unify minus signs and quotes so numbers and words compare reliably."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2212", "-").replace("\u2019", "'").replace("\u00a0", " ")


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))


def detect_language(text: str) -> str:
    """'zh' when Han characters make up a real share of the letters, else 'en'."""
    han = han_count(text)
    latin = len(_ASCII_LETTER_RE.findall(text))
    if han == 0:
        return "en"
    return "zh" if han * 6 >= latin else "en"


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, deterministic English stemmer: enough to join plurals and verb forms."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("'s"):
        w = w[:-2]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] in "bdfglmnprt":
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def en_tokens(text: str) -> list[str]:
    """Lower-case Latin tokens; possessives dropped; 'crew-2' kept whole, 'fly-around' split."""
    out: list[str] = []
    for match in LATIN_WORD_RE.finditer(text):
        tok = match.group(0).lower().replace("’", "'")
        if tok.endswith("'s"):
            tok = tok[:-2]
        tok = tok.strip("'")
        if not tok:
            continue
        if "-" in tok:
            parts = [p for p in tok.split("-") if p]
            if len(parts) == 2 and parts[0].isalpha() and parts[1].isdigit():
                out.append(tok)  # mission names such as crew-2, expedition-66
                continue
            out.extend(parts)
            continue
        out.append(tok)
    return out


@dataclass(frozen=True)
class Lexicon:
    """Compiled lookup tables for concepts in both languages."""

    en_phrases: dict[tuple[str, ...], str]
    en_max_len: int
    zh_words: dict[str, str]
    zh_by_first: dict[str, tuple[str, ...]]
    question_concepts: frozenset[str]


def _build() -> Lexicon:
    en_phrases: dict[tuple[str, ...], str] = {}
    zh_words: dict[str, str] = {}
    for table in (_CONCEPTS, _QUESTION_CONCEPTS):
        for concept, (en, zh) in table.items():
            for form in en.split("|"):
                key = tuple(stem(t) for t in en_tokens(form))
                if key:
                    en_phrases.setdefault(key, concept)
            for form in zh.split("|"):
                if form:
                    zh_words.setdefault(form, concept)
    for canon, (en_aliases, zh_aliases, _zh) in AGENCIES.items():
        concept = "agency:" + canon
        for alias in en_aliases:
            en_phrases[tuple(stem(t) for t in en_tokens(alias))] = concept
        for alias in zh_aliases:
            zh_words[alias] = concept
    for sid, (en_aliases, zh_aliases, _e, _z) in STATIONS.items():
        concept = "station:" + sid
        for alias in en_aliases:
            en_phrases[tuple(stem(t) for t in en_tokens(alias))] = concept
        for alias in zh_aliases:
            zh_words[alias] = concept
    by_first: dict[str, list[str]] = {}
    for word in zh_words:
        by_first.setdefault(word[0], []).append(word)
    return Lexicon(
        en_phrases=en_phrases,
        en_max_len=max(len(k) for k in en_phrases),
        zh_words=zh_words,
        zh_by_first={k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_first.items()},
        question_concepts=frozenset(_QUESTION_CONCEPTS),
    )


LEXICON = _build()

# Concepts that only frame a question (asked-for kind of answer or the implicit subject).
FRAME_CONCEPTS = frozenset(LEXICON.question_concepts | {"station", "time_place"})


def concept_parents(concept: str) -> tuple[str, ...]:
    """Specific concepts also count as their family: 'agency:NASA' is an 'agency'."""
    if concept.startswith("agency:"):
        return (concept, "agency")
    if concept.startswith("station:"):
        return (concept, "station")
    return (concept,)


_AGENCY_LOOKUP: dict[str, str] = {}
for _canon, (_en, _zh, _disp) in AGENCIES.items():
    for _alias in (*_en, *_zh):
        _AGENCY_LOOKUP[re.sub(r"\s+", " ", _alias.lower())] = _canon


def canonical_agency(text: str | None) -> str | None:
    """'ROScosmos', 'European Space Agency', '欧洲航天局' → 'Roscosmos', 'ESA', 'ESA'."""
    if not text:
        return None
    key = re.sub(r"\s+", " ", normalize_text(text).strip().lower())
    key = re.sub(r"^the ", "", key)
    return _AGENCY_LOOKUP.get(key)


def agency_zh(canon: str) -> str:
    entry = AGENCIES.get(canon)
    return entry[2] if entry else canon


def parse_zh_number(text: str) -> float | None:
    """Chinese numerals ('十九', '两百五十', '2万') → number, or None when it is not a numeral."""
    text = text.strip()
    if not text:
        return None
    multiplier = 1
    if text.endswith("万"):
        multiplier, text = 10000, text[:-1]
    elif text.endswith("亿"):
        multiplier, text = 100000000, text[:-1]
    if not text:
        return None
    try:
        return float(text) * multiplier
    except ValueError:
        pass
    total, current = 0, 0
    for ch in text:
        if ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            total += (current or 1) * _ZH_UNITS[ch]
            current = 0
        else:
            return None
    return float((total + current) * multiplier)


def parse_en_number_words(text: str) -> float | None:
    """'seven', 'twenty-one', 'two hundred and fifty', 'a dozen' → number, else None."""
    words = re.split(r"[\s\-]+", text.lower().strip())
    words = [w for w in words if w not in ("and", "a")]
    if not words:
        return None
    total, current = 0, 0
    for w in words:
        if w in EN_NUMBER_WORDS:
            current += EN_NUMBER_WORDS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w == "thousand":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
    return float(total + current)
