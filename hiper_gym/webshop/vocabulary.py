"""Word tables for the generated default catalogue: departments, category paths, brands, options and sentences."""

from __future__ import annotations

# fmt: off
# Department of a product type, by keywords of its type (first match in this order wins) and then of its attributes.
DEPARTMENT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "fashion": (
        "men's", "women's", "boys", "girls", "shirt", "tee", "tank", "polo", "henley", "pants", "jeans", "shorts",
        "dress", "skirt", "sweater", "hoodie", "sweatshirt", "jacket", "coat", "vest", "blazer", "suit", "jumpsuit",
        "lingerie", "underwear", "sock", "hosiery", "swimsuit", "shoe", "sneaker", "boot", "sandal", "slipper",
        "loafer", "oxford", "flats", "pumps", "mules", "footwear", "activewear", "lounge", "bodysuit", "tops",
        "sleeve", "machine wash", "rubber sole", "slim fit", "classic fit", "elastic waist", "polyester spandex",
    ),
    "food": (
        "food", "snack", "meat", "seafood", "cheese", "fruit", "raisin", "peas", "bars", "beverage", "gifts",
        "cracker", "milk", "candy", "chocolate", "meal", "deli", "frozen", "pantry", "breakfast", "substitute",
        "applesauce", "toothpick", "gluten free", "non gmo", "sugar", "protein", "flavor", "organic", "keto",
    ),
    "electronics": (
        "cable", "speaker", "camera", "photography", "flash", "mount", "binocular", "scope", "surveillance",
        "projector", "soundbar", "receiver", "amplifier", "booster", "iphone", "mac", "wearable", "blu-ray", "player",
        "streaming", "power protection", "television", "turntable", "video", "printer", "scanner", "protector",
        "headphone", "headset", "lens", "charger", "tripod", "virtual reality", "car accessories", "game",
        "bags & cases", "multiroom", "surround", "usb", "bluetooth", "remote control", "hdmi", "wireless",
    ),
    "furniture": (
        "mattress", "bed", "table", "lamp", "chandelier", "sconce", "ottoman", "rack", "vanit", "chair", "desk",
        "stool", "living room", "dining", "pillow", "blanket", "candle", "cabinet", "covering", "mirrors", "island",
        "hall tree", "tv stand", "wall art", "plant", "armoire", "bookcase", "nightstand", "bases", "furniture",
        "solid wood", "home office", "assembly required", "storage", "box spring", "bookshel",
    ),
    "beauty": (
        "makeup", "hair", "skin", "nail", "foot", "body", "bath", "fragrance", "deodorant", "shave", "tooth",
        "dental", "tongue", "oral", "orthodontic", "piercing", "tattoo", "cotton balls", "lip", "eyes", "wig",
        "brush", "scrub", "shampoo", "mask", "container", "palette", "remover", "tools", "products", "sets",
        "cruelty free", "essential oil", "sensitive skin", "long lasting",
    ),
}
DEPARTMENT_ORDER = ("fashion", "food", "electronics", "furniture", "beauty")

# product_category paths: department root, then a sub-group picked by keywords (first entry is the fallback).
CATEGORY_ROOTS = {
    "fashion": "Clothing, Shoes & Jewelry",
    "beauty": "Beauty & Personal Care",
    "food": "Grocery & Gourmet Food",
    "electronics": "Electronics",
    "furniture": "Home & Kitchen",
}
SUBGROUPS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "beauty": (
        ("Skin Care", ()),
        ("Makeup", ("makeup", "lip", "eyes", "palette", "brush", "mirror")),
        ("Hair Care", ("hair", "wig", "shampoo", "extension")),
        ("Oral Care", ("tooth", "dental", "tongue", "oral", "orthodontic")),
        ("Foot, Hand & Nail Care", ("foot", "nail")),
        ("Fragrance", ("fragrance", "deodorant")),
        ("Personal Care", ("bath", "body", "shave", "piercing", "cotton", "container", "scrub")),
    ),
    "food": (
        ("Pantry Staples", ()),
        ("Snack Foods", ("snack", "cracker", "peas", "bars", "candy", "chocolate")),
        ("Meat & Seafood", ("meat", "seafood", "deli")),
        ("Beverages", ("beverage", "milk")),
        ("Dairy, Cheese & Eggs", ("cheese", "cream")),
        ("Breakfast Foods", ("breakfast", "fruit", "applesauce")),
        ("Food & Beverage Gifts", ("gift",)),
        ("Frozen", ("frozen", "meal")),
    ),
    "electronics": (
        ("Accessories & Supplies", ()),
        ("Camera & Photo", (
            "camera", "photo", "flash", "mount", "lens", "tripod", "binocular", "scope", "surveillance", "bags",
        )),
        ("Home Audio", ("speaker", "soundbar", "receiver", "amplifier", "turntable", "surround", "multiroom", "cd ")),
        ("Television & Video", ("television", "projector", "blu-ray", "streaming", "video")),
        ("Cell Phones & Accessories", ("iphone", "protector", "charger", "headset", "booster", "car ")),
        ("Headphones", ("headphone",)),
        ("Wearable Technology", ("wearable", "virtual")),
        ("Computers & Accessories", ("mac", "printer", "cable", "power", "game")),
    ),
    "furniture": (
        ("Furniture", ()),
        ("Bedroom Furniture", ("bed", "mattress", "nightstand", "vanit", "armoire")),
        ("Living Room Furniture", ("ottoman", "coffee", "sofa", "console", "tv stand", "living", "bases")),
        ("Home Office Furniture", ("desk", "office", "file", "drafting", "bookcase")),
        ("Kitchen & Dining Furniture", ("dining", "bar stool", "island", "baker", "china")),
        ("Lighting", ("lamp", "chandelier", "sconce", "pendant")),
        ("Home Décor", ("pillow", "blanket", "candle", "mirror", "wall art", "plant", "covering")),
    ),
}

BRAND_PARTS = (
    "Acme", "Amber", "Aster", "Aurora", "Bayside", "Birch", "Blue", "Bloom", "Bolt", "Brook", "Cedar", "Clover",
    "Coast", "Copper", "Crest", "Dawn", "Drift", "Echo", "Elm", "Ember", "Fable", "Fern", "Field", "Flint", "Forge",
    "Fox", "Glade", "Glow", "Granite", "Grove", "Harbor", "Haven", "Hearth", "Iris", "Ivy", "Juniper", "Kestrel",
    "Lark", "Linden", "Lumen", "Maple", "Meadow", "Mesa", "Mint", "Noble", "North", "Nova", "Oak", "Orchid", "Pearl",
    "Pine", "Prairie", "Quill", "Raven", "Reed", "Ridge", "River", "Sable", "Sage", "Sierra", "Sol", "Spruce",
    "Stone", "Summit", "Tide", "Timber", "Vale", "Vista", "Willow", "Wren", "Zephyr",
)
BRAND_SUFFIXES = ("", "", "", " Co.", " Home", " Goods", " Studio", " Labs", "ly", "ora", "ix", "wear", " & Co")

OPTION_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "fashion": {
        "Color": (
            "Black", "White", "Navy", "Navy Blue", "Dark Blue", "Light Blue", "Heather Grey", "Charcoal", "Red",
            "Wine", "Olive Green", "Khaki", "Beige", "Pink", "Burgundy", "Brown", "Dark Grey", "Royal Blue",
            "Black/White", "White/Navy", "Multicolor", "Army Green", "Coffee", "Apricot", "Purple", "Yellow",
            "Orange", "Mint Green",
        ),
        "Size": ("X-Small", "Small", "Medium", "Large", "X-Large", "XX-Large", "3X-Large", "4X-Large"),
        "Shoe Size": ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "13"),
        "Waist Size": ("28W x 30L", "30W x 30L", "32W x 30L", "32W x 32L", "34W x 32L", "36W x 32L", "38W x 34L"),
        "Fit Type": ("Regular", "Big & Tall", "Plus Size"),
    },
    "beauty": {
        "Size": (
            "1 Fl Oz (Pack of 1)", "2 Fl Oz (Pack of 1)", "3.4 Fl Oz (Pack of 1)", "8 Fl Oz", "16 Fl Oz", "Pack of 2",
            "Pack of 3", "1 Count", "2 Count", "100 Count", "0.5 Ounce",
        ),
        "Color": (
            "Black", "Brown", "Natural Black", "Light Brown", "Rose Gold", "Nude", "Pink", "Red", "Coral", "Clear",
            "White", "Silver", "Gold", "Purple", "Burgundy", "Ivory",
        ),
        "Scent": (
            "Lavender", "Unscented", "Coconut", "Eucalyptus", "Vanilla", "Rose", "Citrus", "Fresh", "Ocean Breeze",
        ),
        "Style": ("Set", "Refill", "Travel Size", "Gift Box", "Pump Bottle"),
    },
    "food": {
        "Flavor Name": (
            "Original", "Sea Salt", "Barbecue", "Honey", "Chocolate", "Vanilla", "Strawberry", "Cinnamon", "Smoked",
            "Spicy", "Garlic & Herb", "Cheddar", "Sour Cream & Onion", "Maple", "Lemon", "Caramel", "Jalapeno",
            "Teriyaki", "Mixed Berry", "Coconut",
        ),
        "Size": (
            "1.5 Ounce (Pack of 12)", "4 Ounce (Pack of 2)", "6 Ounce (Pack of 4)", "8 Ounce", "12 Ounce",
            "1 Pound (Pack of 1)", "2 Pound", "16 Ounce (Pack of 6)", "24 Count", "Pack of 3", "5 Pound",
        ),
    },
    "electronics": {
        "Color": ("Black", "White", "Silver", "Space Gray", "Blue", "Red", "Gray", "Gold", "Rose Gold", "Green"),
        "Size": ("3 ft", "6 ft", "10 ft", "15 ft", "32 Inch", "43 Inch", "55 Inch", "65 Inch", "Small", "Large"),
        "Style": ("Basic", "With Charger", "2 Pack", "Wireless", "Pro", "Bundle", "Kit", "Single"),
        "Capacity": ("32GB", "64GB", "128GB", "256GB", "512GB", "1TB"),
    },
    "furniture": {
        "Color": (
            "Black", "White", "Walnut", "Espresso", "Grey", "Rustic Brown", "White Oak", "Natural", "Navy", "Beige",
            "Dark Brown", "Cherry", "Gold", "Silver", "Green", "Light Gray", "Vintage Oak", "Teal",
        ),
        "Size": (
            "Twin", "Full", "Queen", "King", "California King", "Small", "Medium", "Large", "2 Pack", "24 Inch",
            "30 Inch", "36 Inch", "47.2 x 23.6 Inch", "55 Inch", "18x18 Inch", "60 x 80 Inch",
        ),
        "Style": ("Modern", "Farmhouse", "Industrial", "Mid Century", "Traditional", "Contemporary"),
    },
}
# Option names per department with the chance that a product has them.
OPTION_CHANCES: dict[str, tuple[tuple[str, float], ...]] = {
    "fashion": (("Color", 0.8), ("Size", 0.75), ("Fit Type", 0.08)),
    "beauty": (("Size", 0.5), ("Color", 0.3), ("Scent", 0.2), ("Style", 0.1)),
    "food": (("Flavor Name", 0.6), ("Size", 0.6)),
    "electronics": (("Color", 0.55), ("Size", 0.25), ("Style", 0.3), ("Capacity", 0.1)),
    "furniture": (("Color", 0.7), ("Size", 0.45), ("Style", 0.1)),
}
# Values whose colour normalisation can never match their own goal option (docs/environments.md, WebShop): used rarely, for realism.
QUIRKY_VALUES = ("Standard", "Light Wash", "Peppermint", "Rustic", "Wired")

SPECS: dict[str, tuple[str, ...]] = {
    "fashion": ("", "", "Regular Fit", "Pack of 2", "Casual Style", "Everyday Wear", "Soft Touch"),
    "beauty": ("", "2 Fl Oz", "Pack of 3", "Travel Size", "Gift Set", "Salon Quality", "1 Count"),
    "food": ("", "12 Ounce", "Pack of 6", "Family Size", "1 Pound Bag", "Variety Pack", "24 Count"),
    "electronics": ("", "Black", "2 Pack", "with Cable", "Upgraded Version", "4K", "2023 Model"),
    "furniture": ("", "Set of 2", "Easy Assembly", "Queen", "31.5 Inch", "Modern Design", "2 Tier"),
}
DESCRIPTION_OPENERS = (
    "{brand} presents a {type} made for everyday use.",
    "Meet the {type} from {brand}.",
    "This {type} is built to last and designed with care.",
    "Upgrade your routine with this {type} by {brand}.",
    "The {brand} {type} combines thoughtful design with quality materials.",
)
DESCRIPTION_SENTENCES = (
    "It features {a}.",
    "Customers choose it for its {a} design.",
    "Made with {a} in mind, it fits easily into daily life.",
    "The {a} construction sets it apart from similar products.",
    "Enjoy {a} without compromise.",
    "Every detail, from {a} to finish, has been tested.",
)
DESCRIPTION_CLOSERS = (
    "Backed by our satisfaction guarantee.",
    "A great gift for friends and family.",
    "Please check the size chart before ordering.",
    "Package includes one item as described.",
    "Contact us with any question; we reply within 24 hours.",
)
BULLET_SENTENCES = (
    "{A}: designed with {a} for comfort and durability.",
    "{A} - {a} you can count on, day after day.",
    "{A}: the {a} finish keeps it looking new.",
    "{A}: thoughtfully made with {a}.",
)
GENERIC_BULLETS = (
    "SATISFACTION GUARANTEE: if you are not happy with your purchase, contact us for a refund or replacement.",
    "GREAT GIFT: a thoughtful present for birthdays, holidays and special occasions.",
    "QUALITY MATERIALS: carefully selected materials for a long service life.",
    "EASY CARE: simple to clean and maintain.",
)
# fmt: on
