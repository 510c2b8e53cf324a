"""Chinese personal names, village names, phone numbers and other labels for the demo county."""
from __future__ import annotations

from .draw import Draw, Weighted

# Common surnames, roughly by frequency in southern Shaanxi (柯, 汪, 邓 are frequent in Xunyang).
_SURNAMES = Weighted(
    [
        ("王", 60), ("李", 55), ("张", 50), ("刘", 48), ("陈", 45), ("杨", 30), ("柯", 26), ("吴", 22),
        ("周", 20), ("徐", 16), ("孙", 14), ("胡", 16), ("朱", 12), ("高", 12), ("郭", 11), ("何", 12),
        ("罗", 10), ("冯", 14), ("邓", 14), ("汪", 14), ("余", 12), ("黄", 12), ("赵", 12), ("曹", 9),
        ("彭", 8), ("肖", 8), ("田", 9), ("董", 7), ("袁", 8), ("潘", 6), ("蒋", 6), ("谢", 7), ("唐", 7),
        ("韩", 6), ("宋", 6), ("程", 7), ("魏", 6), ("吕", 6), ("丁", 5), ("任", 5), ("姚", 5), ("卢", 5),
        ("段", 5), ("雷", 6), ("侯", 5), ("邹", 5), ("熊", 5), ("秦", 5), ("薛", 4), ("贺", 4), ("龚", 4),
        ("石", 5), ("付", 5), ("方", 5), ("邱", 4), ("万", 4), ("严", 3), ("覃", 2), ("向", 4), ("廖", 4),
        ("邵", 3), ("孟", 3), ("尹", 3), ("江", 4), ("钟", 3), ("梁", 4), ("沈", 3), ("姜", 3), ("苏", 3),
        ("叶", 3), ("杜", 4), ("蔡", 3), ("贾", 3), ("夏", 3), ("谭", 3), ("戴", 2), ("傅", 2), ("明", 2),
    ]
)
_MALE = list("军伟强明华平刚建国庆文斌勇林海涛杰波辉成志兵超鹏飞磊春生福贵富有全兴德安宝山荣发才勤学")
_FEMALE = list("芳秀英华兰玲红丽梅敏霞琴燕娟萍凤云莲珍翠桂花艳娥巧娇菊彩春莉静婷慧")
_MIDDLE_M = list("建国永家世明德志承光正长天立")
_MIDDLE_F = list("玉秀春小金银丽红美桂翠素淑")


class Names:
    def __init__(self, draw: Draw):
        self.d = draw

    def surname(self) -> str:
        return self.d.weighted(_SURNAMES)

    def given(self, sex: str) -> str:
        d = self.d
        last = d.pick(_MALE if sex == "男" else _FEMALE)
        if d.chance(0.22):
            return last
        return d.pick(_MIDDLE_M if sex == "男" else _MIDDLE_F) + last

    def person(self, sex: str | None = None, surname: str | None = None) -> str:
        if sex is None:
            sex = "男" if self.d.chance(0.6) else "女"
        return (surname or self.surname()) + self.given(sex)

    def mobile(self) -> str:
        prefix = self.d.pick(("130", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                              "153", "155", "156", "157", "158", "159", "177", "180", "181", "182", "183",
                              "187", "188", "189"))
        return prefix + self.d.digits(8)


_V1 = list("东西南北大小上中下前后新红青白黄金石松柏桃杨柳桂枫竹茶槐双三五七九龙凤马鹿仙兴太和庙梁清")
_V2 = list("河沟坪坝湾岭山岩垭庄营店寨台园川塘溪口关桥坡峪院坎湖")


def village_names(draw: Draw, n: int, taken: set[str]) -> list[str]:
    """n village names (两字+村; 三字 once the two-character names run short, in the benchmarks' 5× county),
    distinct from each other and from `taken` (county-wide)."""
    out: list[str] = []
    while len(out) < n:
        three = len(taken) >= 0.8 * len(_V1) * len(_V2)
        name = draw.pick(_V1) + (draw.pick(_V1) if three else "") + draw.pick(_V2) + "村"
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


HELPER_UNITS = (
    "旬阳县扶贫局", "旬阳县发改局", "旬阳县财政局", "旬阳县交通运输局", "旬阳县水利局", "旬阳县住建局",
    "旬阳县国土资源局", "旬阳县教育体育局", "旬阳县卫生和计划生育局", "旬阳县人社局", "旬阳县民政局",
    "旬阳县农业局", "旬阳县林业局", "旬阳县科技局", "旬阳县文化广电局", "国网旬阳县供电分公司",
    "旬阳县农村信用合作联社", "旬阳县人民医院", "旬阳县中医院", "旬阳中学",
)
INDUSTRIES = ("魔芋种植", "拐枣栽培", "生猪养殖", "茶园管护", "蚕桑", "中药材种植", "核桃种植", "狮头柑",
              "土鸡养殖", "光伏扶贫", "烤烟种植", "食用菌")
EMPLOYMENTS = ("外出务工(广东)", "外出务工(江苏)", "外出务工(西安)", "县内务工", "社区工厂", "公益岗位",
               "护林员", "保洁员")
CERTIFICATES = ("电工", "焊工", "中式烹调师", "家政服务员", "育婴员", "养老护理员", "农艺工", "茶叶加工工",
                "蚕桑技术", "魔芋种植技术", "拐枣栽培技术", "生猪养殖技术", "汽车驾驶员", "砌筑工", "钢筋工")
ORG_KINDS = ("魔芋专业合作社", "拐枣种植专业合作社", "生猪养殖专业合作社", "茶叶专业合作社", "蚕桑专业合作社",
             "中药材专业合作社", "现代农业园区", "狮头柑产业园")
SITE_SUFFIX = ("安置点", "移民安置小区", "集中安置点")
