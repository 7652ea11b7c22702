"""The demo world's facts: the seed article's venues, rooms and programmes, in Chinese and in
the English the museums would print, and the organisations that book them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from booking.models import OrganisationKind
from courses.models import CourseKind

VENUES = [
    dict(code="LBC", name="刘伯承同志纪念馆", name_en="Liu Bocheng Memorial Hall",
         address="重庆市开州区", address_en="Kaizhou District, Chongqing",
         description="刘伯承元帅的故乡开州，以纪念馆为载体开展党史学习教育。精品课程《学习百年党史 感悟刘帅精神》"
                     "已服务25个党组织、4500余名党员干部；“学党史、悟思想、办实事、开新局”红色主题党日已服务150余个"
                     "党组织、8000余名党员干部。",
         description_en="The memorial hall in Kaizhou, Marshal Liu Bocheng's home town, is a centre "
                        "of Party-history education. Its flagship themed course, Learn a Century "
                        "of Party History, Take Marshal Liu's Spirit to Heart, has served 25 party "
                        "organisations and more than 4,500 Party members and officials; its red "
                        "themed party day has served more than 150 party organisations and over "
                        "8,000 Party members and officials.",
         opens_at=time(9), closes_at=time(17), last_entry_at=time(16, 30),
         weekly_closed_day=0, open_on_holiday_closed_day=True, daily_cap=500,
         issuing_unit="刘伯承同志纪念馆", issuing_unit_en="Liu Bocheng Memorial Hall", position=0),
    dict(code="KZM", name="开州博物馆", name_en="Kaizhou Museum",
         address="重庆市开州区", address_en="Kaizhou District, Chongqing",
         description="开州博物馆策划《红色开州 百年锦绣》特展、与陈独秀旧居陈列馆联合举办《风雷——纪念五四运动专题展览》"
                     "及《不忘初心牢记使命——弘扬革命文化 传承红色基因》专题微展，已接待企事业单位及学校团体百余个、"
                     "参观人数1万余人。",
         description_en="Kaizhou Museum curated the special exhibition Red Kaizhou, a Century of "
                        "Splendour, held Wind and Thunder, an exhibition commemorating the May "
                        "Fourth Movement, jointly with the Chen Duxiu Former Residence Museum, and "
                        "shows the micro-exhibition Stay True to Our Founding Mission. It has "
                        "received more than a hundred groups from companies, public institutions "
                        "and schools: over 10,000 visitors in all.",
         opens_at=time(9), closes_at=time(17), last_entry_at=time(16),
         weekly_closed_day=0, open_on_holiday_closed_day=False, daily_cap=500,
         issuing_unit="开州博物馆", issuing_unit_en="Kaizhou Museum", position=1),
]

ROOMS = {
    "LBC": [("报告厅", "Lecture hall", 120), ("誓词广场", "Oath Square", 200),
            ("研学教室", "Study tour classroom", 60), ("生平陈列厅", "Life and Career Gallery", 150)],
    "KZM": [("一号展厅", "Gallery 1", 80), ("二号展厅", "Gallery 2", 60),
            ("微展厅", "Micro-exhibition gallery", 40), ("学术报告厅", "Lecture theatre", 100)],
}


@dataclass
class DemoCourse:
    code: str
    venue: str
    kind: CourseKind
    title: str
    title_en: str
    summary: str
    audience: str
    modules: list[tuple[str, str, int]]
    hours: str
    room: str
    approval: bool
    equipment: str = ""
    description: str = ""
    english: dict[str, str] | None = None  # summary_en, audience_en, description_en, equipment_en
    letter: bool = False  # party programmes ask for the unit's introduction letter (介绍信)


COURSES = [
    DemoCourse("liushuai-spirit", "LBC", CourseKind.THEMED_COURSE, "学习百年党史 感悟刘帅精神",
               "Learn a Century of Party History, Take Marshal Liu's Spirit to Heart",
               "把学习百年党史与感悟刘帅精神贯通起来的精品专题党课。", "党员干部、入党积极分子",
               [("参观刘伯承生平事迹陈列", "Visit to the exhibition on Liu Bocheng's life", 30),
                ("专题党课", "Themed lecture", 45),
                ("重温入党誓词", "Renewal of the Party membership oath", 15)],
               "1.5", "报告厅", True, "投影仪\n扩音设备\n党旗",
               "由纪念馆宣讲员主讲，结合刘伯承元帅的革命生涯讲述百年党史，课程结束后在党旗下重温入党誓词。",
               dict(summary_en="Our flagship themed party course, linking a century of Party "
                               "history with the spirit of Marshal Liu Bocheng.",
                    audience_en="Party members and officials; applicants for Party membership",
                    description_en="Given by one of the memorial hall's lecturers, the course "
                                   "tells the Party's century of history through Marshal Liu "
                                   "Bocheng's revolutionary life. It ends with the group renewing "
                                   "the Party membership oath beneath the Party flag.",
                    equipment_en="Projector\nPublic address system\nParty flag"),
               letter=True),
    DemoCourse("party-day", "LBC", CourseKind.PARTY_DAY, "学党史、悟思想、办实事、开新局 红色主题党日",
               "Red Themed Party Day: Study History, Understand the Thinking, Get Things Done, "
               "Open New Prospects",
               "党组织在纪念馆开展主题党日：瞻仰、参观、宣誓、研讨。", "基层党组织",
               [("瞻仰刘伯承元帅铜像", "Tribute at Marshal Liu Bocheng's statue", 15),
                ("讲解参观", "Guided visit", 40),
                ("重温入党誓词", "Renewal of the Party membership oath", 15),
                ("交流研讨", "Group discussion", 20)], "1.5",
               "誓词广场", False, "党旗\n入党誓词背景板\n扩音设备", "",
               dict(summary_en="A themed party day at the memorial hall for party organisations: "
                               "a tribute, a guided visit, the oath and a discussion.",
                    audience_en="Grassroots party organisations",
                    equipment_en="Party flag\nOath backdrop\nPublic address system"),
               letter=True),
    DemoCourse("youth-study-tour", "LBC", CourseKind.STUDY_TOUR, "传承红色基因 接续百年奋斗 青少年研学",
               "Youth Study Tour: Carry On the Red Heritage, Continue a Century of Striving",
               "面向中小学生的研学活动，每10名学生须有1名带队老师。", "中小学生（每10名学生配1名带队老师）",
               [("红色故事课堂", "Red stories classroom", 30), ("展厅寻访任务", "Gallery quest", 40),
                ("研学分享", "Sharing what we learned", 20)], "1.5", "研学教室", True,
               "研学手册\n扩音设备", "",
               dict(summary_en="A study tour for primary and secondary school pupils; every 10 "
                               "pupils come with one accompanying teacher.",
                    audience_en="Primary and secondary school pupils (one accompanying teacher "
                                "per 10 pupils)",
                    equipment_en="Study tour workbook\nPublic address system")),
    DemoCourse("red-kaizhou", "KZM", CourseKind.EXHIBITION, "《红色开州 百年锦绣》——中国共产党成立百周年特展",
               "Red Kaizhou, a Century of Splendour: Exhibition for the Centenary of the "
               "Communist Party of China",
               "中国共产党成立百周年特展，讲解员带领参观。", "企事业单位、学校团体",
               [("讲解参观", "Guided visit", 60)], "1.0", "一号展厅", False, "", "",
               dict(summary_en="The special exhibition for the centenary of the founding of the "
                               "Communist Party of China, with a guide.",
                    audience_en="Companies, public institutions and school groups")),
    DemoCourse("fenglei", "KZM", CourseKind.EXHIBITION, "《风雷——纪念五四运动专题展览》",
               "Wind and Thunder: Exhibition Commemorating the May Fourth Movement",
               "与陈独秀旧居陈列馆联合举办的专题展览。", "青年学生、团员青年",
               [("讲解参观", "Guided visit", 50)], "1.0", "二号展厅", False, "", "",
               dict(summary_en="A special exhibition held jointly with the Chen Duxiu Former "
                               "Residence Museum.",
                    audience_en="Students and young people; Communist Youth League members")),
    DemoCourse("micro-exhibition", "KZM", CourseKind.EXHIBITION,
               "《不忘初心牢记使命——弘扬革命文化 传承红色基因》专题微展",
               "Stay True to Our Founding Mission: Revolutionary Culture and the Red Heritage "
               "(Micro-exhibition)",
               "弘扬革命文化、传承红色基因的专题微展。", "各类团体",
               [("讲解参观", "Guided visit", 40)], "0.5", "微展厅", False, "", "",
               dict(summary_en="A small special exhibition on carrying forward revolutionary "
                               "culture and the red heritage.",
                    audience_en="All kinds of groups")),
]


DEMO_ORGANISATIONS = [
    ("中共开州区委组织部机关党支部", OrganisationKind.PARTY_ORGANISATION),
    ("开州区汉丰街道党工委", OrganisationKind.PARTY_ORGANISATION),
    ("国网重庆开州供电公司党委", OrganisationKind.ENTERPRISE),
    ("重庆市开州中学", OrganisationKind.SCHOOL),
    ("开州区实验小学", OrganisationKind.SCHOOL),
    ("开州区人民医院党总支", OrganisationKind.INSTITUTION),
    ("开州区税务局机关党委", OrganisationKind.GOVERNMENT),
    ("开州区文峰街道南山社区", OrganisationKind.COMMUNITY),
    ("重庆开州农商银行党支部", OrganisationKind.ENTERPRISE),
    ("开州区教师进修学校", OrganisationKind.SCHOOL),
    ("开州区退役军人事务局", OrganisationKind.GOVERNMENT),
    ("开州区镇安镇党委", OrganisationKind.PARTY_ORGANISATION),
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN_NAMES = ["伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
               "明", "超", "秀英", "霞", "平", "刚", "华", "建国", "建华", "文", "红", "玉兰",
               "志强", "海燕", "丹", "鹏", "辉", "玲", "晨", "琳", "宇", "浩", "欣", "思远"]
