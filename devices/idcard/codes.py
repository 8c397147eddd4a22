"""Code tables printed on cards: sex (GB/T 2261.1), nation (GB 3304, 56 民族), and GB 11643 check digits."""

from __future__ import annotations

SEX: dict[str, str] = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

NATION: dict[str, str] = {
    "01": "汉",
    "02": "蒙古",
    "03": "回",
    "04": "藏",
    "05": "维吾尔",
    "06": "苗",
    "07": "彝",
    "08": "壮",
    "09": "布依",
    "10": "朝鲜",
    "11": "满",
    "12": "侗",
    "13": "瑶",
    "14": "白",
    "15": "土家",
    "16": "哈尼",
    "17": "哈萨克",
    "18": "傣",
    "19": "黎",
    "20": "傈僳",
    "21": "佤",
    "22": "畲",
    "23": "高山",
    "24": "拉祜",
    "25": "水",
    "26": "东乡",
    "27": "纳西",
    "28": "景颇",
    "29": "柯尔克孜",
    "30": "土",
    "31": "达斡尔",
    "32": "仫佬",
    "33": "羌",
    "34": "布朗",
    "35": "撒拉",
    "36": "毛南",
    "37": "仡佬",
    "38": "锡伯",
    "39": "阿昌",
    "40": "普米",
    "41": "塔吉克",
    "42": "怒",
    "43": "乌孜别克",
    "44": "俄罗斯",
    "45": "鄂温克",
    "46": "德昂",
    "47": "保安",
    "48": "裕固",
    "49": "京",
    "50": "塔塔尔",
    "51": "独龙",
    "52": "鄂伦春",
    "53": "赫哲",
    "54": "门巴",
    "55": "珞巴",
    "56": "基诺",
    "97": "其他",
    "98": "外国血统中国籍人士",
}

SEX_CODE = {name: code for code, name in SEX.items()}
NATION_CODE = {name: code for code, name in NATION.items()}

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2


def check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def id_number_valid(number: str) -> bool:
    """True if `number` is 18 characters whose last one is the right GB 11643 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return check_digit(number[:17]) == number[17].upper()


def mask_id(number: str) -> str:
    """`110105********002X`: first 6 and last 4 kept; short numbers keep less."""
    if len(number) <= 4:
        return "*" * len(number)
    if len(number) <= 10:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """`张*`: the first character and one star, so the length is hidden too (as on the hall bus)."""
    if not name:
        return name
    return name[0] + "*"


def _icao_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"{ch!r} has no ICAO 9303 value")


def icao_check_digit(text: str) -> str:
    """The ICAO 9303 check digit (weights 7, 3, 1; A=10 … Z=35, `<`=0; sum mod 10)."""
    return str(sum(_icao_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


def old_foreign_number(nationality: str, number: str, link: str) -> str:
    """The 15-character number of the holder's earlier card (既往版本外国人永久居留证件号码).

    A 2023 card keeps only three characters of it (`link`, 关联项); the rest comes from the card:
    nationality (3) + receiving province, new number [1:3] (2) + link[0:2] + birth YYMMDD,
    new number [8:14] (6) + link[2] + an ICAO 9303 check digit over those 14 characters.
    The SDK header names the field "derive the original 15-digit number by rule"; this is the
    rule a vendor demo applies, and it matches how 2017 numbers are built (docs/devices-idcard.md).
    """
    if len(nationality) != 3 or len(number) != 18 or len(link) != 3:
        raise ValueError(
            "need a 3-letter nationality, an 18-character number and a 3-character link"
        )
    first14 = nationality + number[1:3] + link[:2] + number[8:14] + link[2]
    return first14 + icao_check_digit(first14)


def link_of_old_number(nationality: str, number: str, old: str) -> str:
    """The three characters a 2023 card stores for `old`; ValueError when `old` is not this holder's."""
    if len(old) != 15:
        raise ValueError("an earlier foreigner card number has 15 characters")
    link = old[5:7] + old[13]
    if old_foreign_number(nationality, number, link) != old:
        raise ValueError(f"{old} does not belong to {nationality} card {mask_id(number)}")
    return link
