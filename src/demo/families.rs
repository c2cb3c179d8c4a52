//! Product families for generated catalogues: for each kind of product the
//! yard sells, the nouns it goes by, the words that tell variants apart, and
//! the sizes it comes in. Names are built the way merchants write them:
//! brand, qualifier, noun, size ("Ironside galvanised coach screw M10 x 100").

use serde_json::{Value, json};

use super::Rng;

pub struct Family {
    pub code: &'static str,
    pub category: &'static str,
    pub nouns: &'static [&'static str],
    pub qualifiers: &'static [&'static str],
    pub sizes: &'static [&'static str],
    pub unit: &'static str,
    /// Price range per stock unit, in cents.
    pub cents: (u32, u32),
    pub density: Option<&'static str>,
    pub tags: &'static [&'static str],
}

macro_rules! family {
    ($code:literal, $cat:literal, [$($n:literal),*], [$($q:literal),*], [$($s:literal),*], $unit:literal, $lo:literal..$hi:literal, $d:expr, [$($t:literal),*]) => {
        Family { code: $code, category: $cat, nouns: &[$($n),*], qualifiers: &[$($q),*], sizes: &[$($s),*], unit: $unit, cents: ($lo, $hi), density: $d, tags: &[$($t),*] }
    };
}

pub const FAMILIES: &[Family] = &[
    family!(
        "AGS",
        "Aggregates/Sand",
        [
            "sand",
            "grit sand",
            "loam sand",
            "river sand",
            "quarry sand"
        ],
        [
            "washed", "sharp", "soft", "yellow", "red", "silver", "dried", "graded", "coarse",
            "fine"
        ],
        ["0-1 mm", "0-2 mm", "0-4 mm", "0.5-1 mm", "1-2 mm"],
        "t",
        2800..9500,
        Some("1600"),
        ["sand"]
    ),
    family!(
        "AGG",
        "Aggregates/Gravel",
        [
            "gravel",
            "shingle",
            "pebbles",
            "chippings",
            "cobbles",
            "flint"
        ],
        [
            "washed",
            "rounded",
            "angular",
            "golden",
            "cotswold",
            "buff",
            "grey",
            "black",
            "white",
            "decorative"
        ],
        [
            "4-8 mm", "6-10 mm", "8-16 mm", "10-20 mm", "16-32 mm", "20-40 mm", "40-60 mm"
        ],
        "t",
        3500..14000,
        Some("1550"),
        ["gravel"]
    ),
    family!(
        "AGC",
        "Aggregates/Crushed stone",
        [
            "crushed stone",
            "scalpings",
            "hardcore",
            "rock dust",
            "rip rap",
            "gabion stone"
        ],
        [
            "granite",
            "limestone",
            "basalt",
            "sandstone",
            "recycled",
            "slate",
            "quartzite"
        ],
        [
            "0-6 mm",
            "6-14 mm",
            "10 mm",
            "20 mm",
            "40 mm",
            "75-150 mm",
            "100-200 mm"
        ],
        "t",
        2200..7000,
        Some("1700"),
        ["stone"]
    ),
    family!(
        "CEM",
        "Cement and mortar/Cement",
        [
            "cement",
            "portland cement",
            "masonry cement",
            "sulfate resisting cement"
        ],
        [
            "general purpose",
            "rapid hardening",
            "low carbon",
            "white",
            "grey",
            "blended"
        ],
        [
            "CEM I 42.5 R",
            "CEM I 52.5 N",
            "CEM II/A-L 32.5 R",
            "CEM II/B-V 32.5 N",
            "CEM III/A 42.5 N"
        ],
        "kg",
        15..70,
        None,
        ["cement"]
    ),
    family!(
        "MOR",
        "Cement and mortar/Mortar",
        ["mortar", "render", "screed", "grout", "pointing mortar"],
        [
            "ready-mixed",
            "lime",
            "fibre reinforced",
            "waterproof",
            "coloured",
            "rapid-set",
            "flexible"
        ],
        ["M4", "M6", "M12", "class II", "class III", "25 kg"],
        "kg",
        20..180,
        None,
        ["mortar"]
    ),
    family!(
        "REB",
        "Steel and rebar/Rebar",
        ["rebar", "reinforcing bar", "threaded bar", "dowel bar"],
        [
            "B500B",
            "B500C",
            "galvanised",
            "epoxy coated",
            "stainless",
            "plain"
        ],
        [
            "6 mm x 6 m",
            "8 mm x 6 m",
            "10 mm x 6 m",
            "12 mm x 12 m",
            "16 mm x 12 m",
            "20 mm x 12 m",
            "25 mm x 12 m",
            "32 mm x 12 m"
        ],
        "pc",
        300..15000,
        None,
        ["rebar"]
    ),
    family!(
        "STS",
        "Steel and rebar/Sections",
        [
            "angle",
            "flat bar",
            "box section",
            "channel",
            "I-beam",
            "round bar",
            "square tube"
        ],
        [
            "mild steel",
            "galvanised",
            "hot rolled",
            "bright",
            "S275",
            "S355"
        ],
        [
            "25 x 25 x 3 mm",
            "40 x 40 x 4 mm",
            "50 x 5 mm",
            "60 x 60 x 5 mm",
            "100 x 50 x 5 mm",
            "152 x 89 mm"
        ],
        "m",
        200..6000,
        None,
        ["steel"]
    ),
    family!(
        "FXS",
        "Fixings/Screws",
        [
            "wood screw",
            "decking screw",
            "drywall screw",
            "self-drilling screw",
            "coach screw",
            "concrete screw",
            "chipboard screw"
        ],
        [
            "zinc plated",
            "stainless",
            "black",
            "yellow",
            "countersunk",
            "pan head",
            "hex head"
        ],
        [
            "3.5 x 30 mm",
            "4 x 40 mm",
            "4.5 x 50 mm",
            "5 x 70 mm",
            "6 x 100 mm",
            "M8 x 80",
            "M10 x 100"
        ],
        "pc",
        2..90,
        None,
        ["screws", "fixings"]
    ),
    family!(
        "FXN",
        "Fixings/Nails",
        [
            "round wire nail",
            "clout nail",
            "masonry nail",
            "oval nail",
            "panel pin",
            "ring shank nail"
        ],
        ["bright", "galvanised", "collated", "copper", "stainless"],
        ["25 mm", "40 mm", "50 mm", "65 mm", "75 mm", "100 mm"],
        "kg",
        300..2500,
        None,
        ["nails", "fixings"]
    ),
    family!(
        "FXB",
        "Fixings/Bolts and anchors",
        [
            "hex bolt",
            "carriage bolt",
            "anchor bolt",
            "wall plug",
            "chemical anchor",
            "washer",
            "nut"
        ],
        [
            "zinc plated",
            "grade 8.8",
            "stainless",
            "high tensile",
            "heavy duty"
        ],
        ["M6", "M8", "M10", "M12", "M16", "M20"],
        "pc",
        3..400,
        None,
        ["bolts", "fixings"]
    ),
    family!(
        "TIM",
        "Timber/Structural timber",
        ["timber", "joist", "rafter", "sawn timber", "carcassing"],
        [
            "C16",
            "C24",
            "treated",
            "kiln dried",
            "regularised",
            "green"
        ],
        [
            "47 x 75 mm",
            "47 x 100 mm",
            "47 x 150 mm",
            "47 x 200 mm",
            "63 x 150 mm",
            "75 x 225 mm"
        ],
        "m",
        150..1400,
        None,
        ["timber"]
    ),
    family!(
        "TMD",
        "Timber/Mouldings",
        [
            "skirting",
            "architrave",
            "dado rail",
            "quadrant",
            "scotia",
            "window board"
        ],
        [
            "pine",
            "oak",
            "MDF",
            "primed",
            "ogee",
            "torus",
            "bullnose",
            "chamfered"
        ],
        [
            "15 x 69 mm",
            "18 x 94 mm",
            "18 x 119 mm",
            "25 x 169 mm",
            "2.4 m",
            "4.2 m"
        ],
        "m",
        120..1800,
        None,
        ["mouldings"]
    ),
    family!(
        "SHT",
        "Timber/Sheet materials",
        [
            "plywood",
            "OSB board",
            "MDF board",
            "chipboard",
            "hardboard",
            "cement board"
        ],
        [
            "structural",
            "moisture resistant",
            "fire retardant",
            "flooring",
            "marine",
            "hardwood faced"
        ],
        ["6 mm", "9 mm", "12 mm", "18 mm", "22 mm", "25 mm"],
        "pc",
        900..8000,
        None,
        ["boards"]
    ),
    family!(
        "BLK",
        "Blocks and bricks/Blocks",
        [
            "concrete block",
            "aerated block",
            "hollow block",
            "trench block",
            "padstone"
        ],
        ["dense", "lightweight", "solid", "cellular", "fair faced"],
        ["100 mm", "140 mm", "215 mm", "300 mm", "3.6 N", "7.3 N"],
        "pc",
        120..900,
        None,
        ["blocks"]
    ),
    family!(
        "BRK",
        "Blocks and bricks/Bricks",
        [
            "facing brick",
            "engineering brick",
            "common brick",
            "reclaimed brick",
            "brick slip"
        ],
        [
            "red", "buff", "blue", "multi", "handmade", "wirecut", "stock"
        ],
        [
            "65 mm",
            "73 mm",
            "class A",
            "class B",
            "frogged",
            "perforated"
        ],
        "pc",
        40..250,
        None,
        ["bricks"]
    ),
    family!(
        "PAV",
        "Blocks and bricks/Paving",
        [
            "paving slab",
            "block paving",
            "setts",
            "edging",
            "kerb",
            "step"
        ],
        [
            "sandstone",
            "granite",
            "porcelain",
            "concrete",
            "riven",
            "smooth",
            "charcoal",
            "buff"
        ],
        [
            "300 x 300 mm",
            "450 x 450 mm",
            "600 x 600 mm",
            "600 x 900 mm",
            "200 x 100 mm",
            "915 mm"
        ],
        "pc",
        150..4500,
        None,
        ["paving"]
    ),
    family!(
        "CHM",
        "Chemicals/Admixtures",
        [
            "plasticiser",
            "accelerator",
            "retarder",
            "waterproofer",
            "frost proofer",
            "air entrainer"
        ],
        ["liquid", "powder", "concentrated", "winter", "integral"],
        ["1 l", "5 l", "25 l", "205 l"],
        "l",
        150..900,
        Some("1100"),
        ["admixture"]
    ),
    family!(
        "CHA",
        "Chemicals/Acids and alkalis",
        [
            "hydrochloric acid",
            "sulphuric acid",
            "phosphoric acid",
            "caustic soda",
            "soda ash",
            "hydrated lime"
        ],
        [
            "technical grade",
            "food grade",
            "concentrated",
            "dilute",
            "pellets",
            "flakes"
        ],
        ["10%", "30%", "33%", "75%", "98%"],
        "kg",
        80..700,
        Some("1200"),
        ["chemicals"]
    ),
    family!(
        "ADH",
        "Chemicals/Adhesives and sealants",
        [
            "silicone sealant",
            "expanding foam",
            "grab adhesive",
            "PVA",
            "decorators caulk",
            "polyurethane adhesive",
            "wood glue"
        ],
        [
            "clear",
            "white",
            "black",
            "fire rated",
            "low expansion",
            "exterior",
            "sanitary"
        ],
        ["290 ml", "310 ml", "500 ml", "750 ml", "1 l", "5 l"],
        "pc",
        250..1800,
        None,
        ["sealant", "adhesive"]
    ),
    family!(
        "INS",
        "Insulation/Boards",
        [
            "PIR board",
            "EPS board",
            "XPS board",
            "phenolic board",
            "insulated plasterboard"
        ],
        [
            "foil faced",
            "tongue and groove",
            "high density",
            "floor grade",
            "wall grade"
        ],
        ["25 mm", "50 mm", "75 mm", "100 mm", "120 mm", "150 mm"],
        "pc",
        900..7500,
        None,
        ["insulation"]
    ),
    family!(
        "INR",
        "Insulation/Rolls and slabs",
        [
            "mineral wool roll",
            "glass wool roll",
            "acoustic slab",
            "cavity batt",
            "sheep wool roll"
        ],
        ["loft", "party wall", "flexible", "rigid", "eco"],
        ["50 mm", "100 mm", "150 mm", "170 mm", "200 mm"],
        "m2",
        150..1400,
        None,
        ["insulation"]
    ),
    family!(
        "PNT",
        "Paint/Interior",
        [
            "emulsion",
            "gloss",
            "eggshell",
            "satinwood",
            "primer undercoat",
            "ceiling paint"
        ],
        [
            "brilliant white",
            "magnolia",
            "grey",
            "sage",
            "navy",
            "matt",
            "silk",
            "one coat",
            "quick dry"
        ],
        ["750 ml", "2.5 l", "5 l", "10 l"],
        "pc",
        600..6500,
        None,
        ["paint"]
    ),
    family!(
        "PNX",
        "Paint/Exterior",
        [
            "masonry paint",
            "fence paint",
            "wood stain",
            "decking oil",
            "metal paint",
            "floor paint"
        ],
        [
            "smooth",
            "textured",
            "black",
            "green",
            "oak",
            "clear",
            "anti-slip",
            "weatherproof"
        ],
        ["1 l", "2.5 l", "5 l", "10 l"],
        "pc",
        700..7000,
        None,
        ["paint"]
    ),
    family!(
        "PLB",
        "Plumbing/Pipe",
        [
            "copper pipe",
            "MDPE pipe",
            "waste pipe",
            "push-fit pipe",
            "soil pipe",
            "gas pipe"
        ],
        ["blue", "black", "white", "grey", "barrier", "flexible"],
        [
            "15 mm x 3 m",
            "22 mm x 3 m",
            "25 mm x 25 m",
            "32 mm x 50 m",
            "40 mm x 3 m",
            "110 mm x 3 m"
        ],
        "pc",
        300..9000,
        None,
        ["plumbing", "pipe"]
    ),
    family!(
        "PLF",
        "Plumbing/Fittings",
        [
            "elbow",
            "tee",
            "coupler",
            "reducer",
            "stop valve",
            "compression fitting",
            "tank connector"
        ],
        [
            "brass",
            "copper",
            "push-fit",
            "solder ring",
            "end feed",
            "plastic"
        ],
        [
            "15 mm", "22 mm", "28 mm", "32 mm", "40 mm", "1/2 in", "3/4 in"
        ],
        "pc",
        80..2500,
        None,
        ["plumbing", "fittings"]
    ),
    family!(
        "ELC",
        "Electrical/Cable",
        [
            "twin and earth cable",
            "flex",
            "armoured cable",
            "coaxial cable",
            "data cable",
            "trunking",
            "conduit"
        ],
        ["grey", "white", "black", "LSZH", "outdoor", "3 core"],
        [
            "1 mm2", "1.5 mm2", "2.5 mm2", "6 mm2", "10 mm2", "20 m", "50 m", "100 m"
        ],
        "m",
        40..900,
        None,
        ["electrical"]
    ),
    family!(
        "ROF",
        "Roofing",
        [
            "roof tile",
            "slate",
            "ridge tile",
            "roofing felt",
            "breathable membrane",
            "flashing",
            "corrugated sheet"
        ],
        [
            "clay",
            "concrete",
            "natural",
            "fibre cement",
            "lead",
            "bitumen",
            "polycarbonate",
            "red",
            "grey"
        ],
        [
            "265 x 165 mm",
            "500 x 250 mm",
            "600 x 300 mm",
            "1 x 10 m",
            "150 mm x 6 m",
            "2 m"
        ],
        "pc",
        60..9000,
        None,
        ["roofing"]
    ),
    family!(
        "GRD",
        "Garden and landscaping",
        [
            "fence panel",
            "fence post",
            "gravel board",
            "trellis",
            "turf",
            "bark mulch",
            "sleeper",
            "weed membrane"
        ],
        [
            "overlap",
            "closeboard",
            "featheredge",
            "treated",
            "concrete",
            "oak",
            "decorative",
            "heavy duty"
        ],
        [
            "6 x 6 ft", "6 x 4 ft", "2.4 m", "1.8 m", "100 l", "1 m2", "2 x 50 m"
        ],
        "pc",
        300..9000,
        None,
        ["garden"]
    ),
    family!(
        "DRN",
        "Drainage",
        [
            "drain pipe",
            "gully",
            "inspection chamber",
            "channel drain",
            "soakaway crate",
            "manhole cover",
            "bend"
        ],
        [
            "underground",
            "plastic",
            "cast iron",
            "galvanised",
            "heavy duty",
            "trapped"
        ],
        [
            "110 mm",
            "160 mm",
            "300 mm",
            "450 mm",
            "600 x 450 mm",
            "1 m"
        ],
        "pc",
        300..15000,
        None,
        ["drainage"]
    ),
    family!(
        "TLH",
        "Tools/Hand tools",
        [
            "trowel",
            "shovel",
            "spade",
            "hammer",
            "spirit level",
            "tape measure",
            "saw",
            "chisel",
            "float",
            "mallet"
        ],
        [
            "brick",
            "pointing",
            "plastering",
            "claw",
            "club",
            "rubber",
            "folding",
            "heavy duty",
            "professional"
        ],
        [
            "8 in", "11 in", "16 oz", "600 mm", "1200 mm", "5 m", "8 m", "22 in"
        ],
        "pc",
        400..6000,
        None,
        ["tools"]
    ),
    family!(
        "TLP",
        "Tools/Power tools",
        [
            "drill driver",
            "impact driver",
            "angle grinder",
            "circular saw",
            "SDS drill",
            "jigsaw",
            "mixer paddle",
            "breaker"
        ],
        [
            "cordless",
            "brushless",
            "corded",
            "18 V",
            "110 V",
            "230 V",
            "compact"
        ],
        ["115 mm", "125 mm", "165 mm", "2 Ah", "4 Ah", "5 kg"],
        "pc",
        3500..45000,
        None,
        ["power tools"]
    ),
    family!(
        "PPE",
        "Tools/Safety",
        [
            "safety boots",
            "hard hat",
            "hi-vis vest",
            "work gloves",
            "safety glasses",
            "ear defenders",
            "dust mask"
        ],
        [
            "steel toe",
            "waterproof",
            "cut resistant",
            "anti-fog",
            "FFP2",
            "FFP3",
            "orange",
            "yellow"
        ],
        ["size 8", "size 9", "size 10", "size 11", "M", "L", "XL"],
        "pc",
        150..9000,
        None,
        ["ppe", "safety"]
    ),
];

pub const BRANDS: &[&str] = &[
    "Aggrex",
    "Boulder",
    "Ferrum",
    "Northyard",
    "Quarrymaster",
    "Stonebridge",
    "Keystone",
    "Ironside",
    "Oakfield",
    "Granitec",
    "Millstone",
    "Redhill",
    "Bluecoast",
    "Cornerstone",
    "Tradeline",
    "Buildright",
    "Sitepro",
    "Hallmark",
    "Westgate",
    "Fenwick",
    "Alder",
    "Brackley",
    "Corwen",
    "Dunmore",
    "Elsworth",
    "Farrow",
    "Glenholm",
    "Harwood",
    "Ingram",
    "Jarrow",
];

/// A generated product of `family`, number `n`.
pub fn product(family: &Family, n: usize, rng: &mut Rng) -> Value {
    let brand = rng.pick(BRANDS);
    let noun = rng.pick(family.nouns);
    let qualifier = rng.pick(family.qualifiers);
    let size = rng.pick(family.sizes);
    let name = format!("{brand} {qualifier} {noun} {size}");
    let (lo, hi) = family.cents;
    let cents =
        lo + u32::try_from(rng.below(usize::try_from(hi - lo).unwrap_or(1) + 1)).unwrap_or(0);
    let price = if family.unit == "kg" || family.unit == "m" || family.unit == "l" {
        format!("{}.{:02}", cents / 100, cents % 100)
    } else {
        format!("{}.{:02}", cents / 100, (cents % 100) / 5 * 5)
    };
    let mut tags: Vec<&str> = family.tags.to_vec();
    tags.push(qualifier);
    let description = format!(
        "{brand} {noun} in {qualifier} finish, {size}. Sold by the {}; trade prices on request.",
        match family.unit {
            "t" => "tonne",
            "kg" => "kilogram",
            "m" => "metre",
            "m2" => "square metre",
            "l" => "litre",
            _ => "piece",
        }
    );
    json!({
        "sku": format!("{}-{n:06}", family.code),
        "name": name,
        "description": description,
        "category": family.category,
        "tags": tags,
        "brand": brand,
        "attributes": {"size": size, "finish": qualifier},
        "unit": family.unit,
        "density_kg_m3": family.density,
        "price": price,
        "reorder_point": "10",
    })
}
