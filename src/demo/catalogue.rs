//! The yard's catalogue: a hand-written base of real product families, and
//! generated variants (brands, sizes, grades) up to any size.

use serde_json::{Value, json};

use super::Rng;

/// A product of the hand-written base.
#[derive(Debug, Clone, Copy)]
pub struct Base {
    pub sku: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub unit: &'static str,
    /// Price per stock unit.
    pub price: &'static str,
    pub density: Option<&'static str>,
    pub tags: &'static [&'static str],
    pub attributes: &'static [(&'static str, &'static str)],
    pub description: &'static str,
}

macro_rules! base {
    ($sku:literal, $name:literal, $cat:literal, $unit:literal, $price:literal, $density:expr,
     [$($tag:literal),*], [$(($k:literal, $v:literal)),*], $desc:literal) => {
        Base {
            sku: $sku, name: $name, category: $cat, unit: $unit, price: $price,
            density: $density, tags: &[$($tag),*], attributes: &[$(($k, $v)),*],
            description: $desc,
        }
    };
}

/// The base catalogue: the products a real yard stocks.
pub const BASE: &[Base] = &[
    base!(
        "SAND-04",
        "Washed sand 0-4 mm",
        "Aggregates/Sand",
        "t",
        "38.00",
        Some("1600"),
        ["washed", "concrete"],
        [("grain_size", "0-4 mm")],
        "Clean washed river sand for concrete, screed and block laying."
    ),
    base!(
        "SAND-SHARP",
        "Sharp sand 0-4 mm",
        "Aggregates/Sand",
        "t",
        "36.50",
        Some("1650"),
        ["screed", "paving"],
        [("grain_size", "0-4 mm")],
        "Coarse sharp sand for floor screeds and laying paving."
    ),
    base!(
        "SAND-BLD",
        "Building sand 0-2 mm",
        "Aggregates/Sand",
        "t",
        "34.00",
        Some("1550"),
        ["mortar", "bricklaying"],
        [("grain_size", "0-2 mm")],
        "Soft yellow building sand for bricklaying mortar."
    ),
    base!(
        "SAND-PLST",
        "Plastering sand 0-1 mm",
        "Aggregates/Sand",
        "t",
        "39.50",
        Some("1500"),
        ["plaster", "render"],
        [("grain_size", "0-1 mm")],
        "Fine washed sand for render and plaster."
    ),
    base!(
        "SAND-SIL",
        "Silica sand 0.1-0.5 mm",
        "Aggregates/Sand",
        "t",
        "89.00",
        Some("1500"),
        ["silica", "filtration"],
        [("grain_size", "0.1-0.5 mm"), ("purity", "99% SiO2")],
        "Dried silica sand for filtration, sports pitches and resin floors."
    ),
    base!(
        "SAND-KD",
        "Kiln-dried sand 0-1 mm",
        "Aggregates/Sand",
        "kg",
        "0.32",
        Some("1450"),
        ["jointing", "paving"],
        [("grain_size", "0-1 mm")],
        "Kiln-dried fine sand for brushing into block paving joints."
    ),
    base!(
        "GRAV-0408",
        "Gravel 4-8 mm",
        "Aggregates/Gravel",
        "t",
        "42.00",
        Some("1550"),
        ["drainage", "decorative"],
        [("grain_size", "4-8 mm")],
        "Rounded washed gravel for drainage and paths."
    ),
    base!(
        "GRAV-0816",
        "Gravel 8-16 mm",
        "Aggregates/Gravel",
        "t",
        "41.00",
        Some("1550"),
        ["concrete", "drainage"],
        [("grain_size", "8-16 mm")],
        "Washed gravel for concrete mixes and soakaways."
    ),
    base!(
        "GRAV-1632",
        "Gravel 16-32 mm",
        "Aggregates/Gravel",
        "t",
        "40.00",
        Some("1500"),
        ["drainage"],
        [("grain_size", "16-32 mm")],
        "Coarse gravel for drainage beds and gabions."
    ),
    base!(
        "GRAV-PEA",
        "Pea gravel 6-10 mm",
        "Aggregates/Gravel",
        "t",
        "48.00",
        Some("1600"),
        ["decorative", "garden"],
        [("grain_size", "6-10 mm")],
        "Smooth pea shingle for paths and garden borders."
    ),
    base!(
        "GRAN-1020",
        "Crushed granite 10-20 mm",
        "Aggregates/Crushed stone",
        "t",
        "52.00",
        Some("1650"),
        ["granite", "concrete"],
        [("grain_size", "10-20 mm"), ("rock", "granite")],
        "Angular crushed granite aggregate for high-strength concrete."
    ),
    base!(
        "LIME-20",
        "Limestone chippings 20 mm",
        "Aggregates/Crushed stone",
        "t",
        "44.00",
        Some("1600"),
        ["limestone", "driveway"],
        [("grain_size", "20 mm"), ("rock", "limestone")],
        "Crushed limestone for driveways and sub-base dressing."
    ),
    base!(
        "BALL-020",
        "Ballast 0-20 mm",
        "Aggregates/Crushed stone",
        "t",
        "37.00",
        Some("1750"),
        ["concrete", "all-in"],
        [("grain_size", "0-20 mm")],
        "All-in ballast: sand and gravel ready for general concrete."
    ),
    base!(
        "MOT-T1",
        "Type 1 MOT sub-base 0-40 mm",
        "Aggregates/Sub-base",
        "t",
        "33.00",
        Some("2100"),
        ["sub-base", "driveway"],
        [("grain_size", "0-40 mm"), ("standard", "MOT Type 1")],
        "Crushed stone sub-base that compacts hard under drives and roads."
    ),
    base!(
        "SOIL-TOP",
        "Screened topsoil",
        "Aggregates/Soil",
        "t",
        "29.00",
        Some("1300"),
        ["garden", "lawn"],
        [("screen", "10 mm")],
        "Screened loam topsoil for lawns and beds."
    ),
    base!(
        "CEM-425",
        "Portland cement CEM I 42.5 R",
        "Cement and mortar/Cement",
        "kg",
        "0.21",
        None,
        ["cement", "portland"],
        [("strength_class", "42.5 R"), ("standard", "EN 197-1")],
        "General purpose Portland cement in 25 kg bags."
    ),
    base!(
        "CEM-325",
        "Cement CEM II/B-V 32.5 R",
        "Cement and mortar/Cement",
        "kg",
        "0.18",
        None,
        ["cement", "fly ash"],
        [("strength_class", "32.5 R"), ("standard", "EN 197-1")],
        "Fly-ash blended cement for mortar and general concrete."
    ),
    base!(
        "CEM-525",
        "Rapid-set cement CEM I 52.5 R",
        "Cement and mortar/Cement",
        "kg",
        "0.29",
        None,
        ["cement", "rapid"],
        [("strength_class", "52.5 R")],
        "High early strength cement for precast and fast turnaround."
    ),
    base!(
        "CEM-WHT",
        "White cement CEM I 52.5 N",
        "Cement and mortar/Cement",
        "kg",
        "0.62",
        None,
        ["cement", "white", "decorative"],
        [("strength_class", "52.5 N"), ("colour", "white")],
        "White Portland cement for decorative render and terrazzo."
    ),
    base!(
        "MORT-M4",
        "Ready-mix mortar M4",
        "Cement and mortar/Mortar",
        "kg",
        "0.24",
        None,
        ["mortar", "bricklaying"],
        [("class", "M4")],
        "Dry pre-mixed mortar: add water for bricklaying."
    ),
    base!(
        "MORT-M10",
        "Masonry mortar M10",
        "Cement and mortar/Mortar",
        "kg",
        "0.27",
        None,
        ["mortar", "masonry"],
        [("class", "M10")],
        "High-strength masonry mortar for engineering brickwork."
    ),
    base!(
        "LIME-NHL35",
        "Hydraulic lime NHL 3.5",
        "Cement and mortar/Lime",
        "kg",
        "0.85",
        None,
        ["lime", "restoration"],
        [("class", "NHL 3.5")],
        "Natural hydraulic lime for breathable mortars and restoration."
    ),
    base!(
        "ADH-C2TE",
        "Tile adhesive C2TE",
        "Cement and mortar/Adhesives",
        "kg",
        "0.78",
        None,
        ["tiling", "adhesive"],
        [("class", "C2TE")],
        "Improved cementitious tile adhesive with extended open time."
    ),
    base!(
        "SCREED-SL",
        "Self-levelling screed",
        "Cement and mortar/Screed",
        "kg",
        "0.95",
        None,
        ["screed", "floor"],
        [("thickness", "2-30 mm")],
        "Pourable self-levelling floor compound."
    ),
    base!(
        "RB-0806-B",
        "Rebar B500B 8 mm x 6 m",
        "Steel and rebar/Rebar",
        "pc",
        "4.90",
        None,
        ["rebar", "reinforcement"],
        [("diameter", "8 mm"), ("length", "6 m"), ("grade", "B500B")],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-1006-B",
        "Rebar B500B 10 mm x 6 m",
        "Steel and rebar/Rebar",
        "pc",
        "7.40",
        None,
        ["rebar", "reinforcement"],
        [("diameter", "10 mm"), ("length", "6 m"), ("grade", "B500B")],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-1206-B",
        "Rebar B500B 12 mm x 6 m",
        "Steel and rebar/Rebar",
        "pc",
        "10.60",
        None,
        ["rebar", "reinforcement"],
        [("diameter", "12 mm"), ("length", "6 m"), ("grade", "B500B")],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-1212-B",
        "Rebar B500B 12 mm x 12 m",
        "Steel and rebar/Rebar",
        "pc",
        "20.90",
        None,
        ["rebar", "reinforcement"],
        [
            ("diameter", "12 mm"),
            ("length", "12 m"),
            ("grade", "B500B")
        ],
        "Ribbed reinforcing bar, grade B500B, long length."
    ),
    base!(
        "RB-1606-B",
        "Rebar B500B 16 mm x 6 m",
        "Steel and rebar/Rebar",
        "pc",
        "18.80",
        None,
        ["rebar", "reinforcement"],
        [("diameter", "16 mm"), ("length", "6 m"), ("grade", "B500B")],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-2012-B",
        "Rebar B500B 20 mm x 12 m",
        "Steel and rebar/Rebar",
        "pc",
        "58.00",
        None,
        ["rebar", "reinforcement"],
        [
            ("diameter", "20 mm"),
            ("length", "12 m"),
            ("grade", "B500B")
        ],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-2512-B",
        "Rebar B500B 25 mm x 12 m",
        "Steel and rebar/Rebar",
        "pc",
        "90.50",
        None,
        ["rebar", "reinforcement"],
        [
            ("diameter", "25 mm"),
            ("length", "12 m"),
            ("grade", "B500B")
        ],
        "Ribbed reinforcing bar, grade B500B."
    ),
    base!(
        "RB-0412-B",
        "Rebar B500B 4 mm x 12 m",
        "Steel and rebar/Rebar",
        "pc",
        "3.10",
        None,
        ["rebar", "reinforcement"],
        [("diameter", "4 mm"), ("length", "12 m"), ("grade", "B500B")],
        "Thin ribbed wire bar for light reinforcement."
    ),
    base!(
        "MESH-A142",
        "Steel mesh A142 4.8 x 2.4 m",
        "Steel and rebar/Mesh",
        "pc",
        "34.00",
        None,
        ["mesh", "reinforcement", "slab"],
        [("wire", "6 mm"), ("spacing", "200 mm")],
        "Welded reinforcement mesh for slabs and driveways."
    ),
    base!(
        "MESH-A193",
        "Steel mesh A193 4.8 x 2.4 m",
        "Steel and rebar/Mesh",
        "pc",
        "43.00",
        None,
        ["mesh", "reinforcement", "slab"],
        [("wire", "7 mm"), ("spacing", "200 mm")],
        "Welded reinforcement mesh for slabs."
    ),
    base!(
        "MESH-A252",
        "Steel mesh A252 4.8 x 2.4 m",
        "Steel and rebar/Mesh",
        "pc",
        "55.00",
        None,
        ["mesh", "reinforcement"],
        [("wire", "8 mm"), ("spacing", "200 mm")],
        "Heavy welded reinforcement mesh."
    ),
    base!(
        "WIRE-TIE",
        "Tying wire 1.6 mm annealed",
        "Steel and rebar/Accessories",
        "kg",
        "3.20",
        None,
        ["wire", "rebar"],
        [("diameter", "1.6 mm")],
        "Soft annealed wire for tying rebar."
    ),
    base!(
        "ANG-40404",
        "Steel angle 40 x 40 x 4 mm",
        "Steel and rebar/Sections",
        "m",
        "4.60",
        None,
        ["steel", "angle"],
        [("size", "40 x 40 x 4 mm"), ("grade", "S275")],
        "Equal angle steel section, S275."
    ),
    base!(
        "FLAT-5005",
        "Flat bar 50 x 5 mm",
        "Steel and rebar/Sections",
        "m",
        "3.10",
        None,
        ["steel", "flat bar"],
        [("size", "50 x 5 mm"), ("grade", "S275")],
        "Hot-rolled flat steel bar."
    ),
    base!(
        "TIM-47100",
        "C24 treated timber 47 x 100 mm",
        "Timber/Structural timber",
        "m",
        "2.85",
        None,
        ["timber", "c24", "treated"],
        [("section", "47 x 100 mm"), ("grade", "C24")],
        "Kiln-dried, pressure-treated structural softwood."
    ),
    base!(
        "TIM-47150",
        "C24 treated timber 47 x 150 mm",
        "Timber/Structural timber",
        "m",
        "4.10",
        None,
        ["timber", "c24", "treated"],
        [("section", "47 x 150 mm"), ("grade", "C24")],
        "Kiln-dried, pressure-treated structural softwood for joists."
    ),
    base!(
        "TIM-47200",
        "C24 treated timber 47 x 200 mm",
        "Timber/Structural timber",
        "m",
        "5.60",
        None,
        ["timber", "c24", "joist"],
        [("section", "47 x 200 mm"), ("grade", "C24")],
        "Structural joist timber."
    ),
    base!(
        "TIM-3889",
        "CLS studwork 38 x 89 mm",
        "Timber/Studwork",
        "m",
        "1.95",
        None,
        ["timber", "cls", "stud"],
        [("section", "38 x 89 mm")],
        "Planed studwork timber for partitions."
    ),
    base!(
        "BAT-2538",
        "Roofing batten 25 x 38 mm",
        "Timber/Roofing",
        "m",
        "0.92",
        None,
        ["batten", "roofing"],
        [("section", "25 x 38 mm")],
        "Graded, treated tile batten."
    ),
    base!(
        "DECK-28145",
        "Decking board 28 x 145 mm",
        "Timber/Decking",
        "m",
        "3.40",
        None,
        ["decking", "garden"],
        [("section", "28 x 145 mm")],
        "Grooved treated softwood decking."
    ),
    base!(
        "OSB-18",
        "OSB3 board 18 mm 2440 x 1220",
        "Timber/Sheet materials",
        "pc",
        "27.50",
        None,
        ["osb", "board"],
        [("thickness", "18 mm"), ("size", "2440 x 1220 mm")],
        "Oriented strand board for flooring and sheathing."
    ),
    base!(
        "PLY-12",
        "Plywood WBP 12 mm 2440 x 1220",
        "Timber/Sheet materials",
        "pc",
        "31.00",
        None,
        ["plywood", "board"],
        [("thickness", "12 mm"), ("size", "2440 x 1220 mm")],
        "Exterior-grade hardwood-faced plywood."
    ),
    base!(
        "BLK-7N100",
        "Concrete block 7 N 440 x 215 x 100 mm",
        "Blocks and bricks/Blocks",
        "pc",
        "1.95",
        None,
        ["block", "concrete"],
        [("strength", "7 N"), ("size", "440 x 215 x 100 mm")],
        "Dense aggregate concrete block."
    ),
    base!(
        "BLK-AER100",
        "Aerated block 440 x 215 x 100 mm",
        "Blocks and bricks/Blocks",
        "pc",
        "2.60",
        None,
        ["block", "aerated", "lightweight"],
        [("strength", "3.6 N"), ("size", "440 x 215 x 100 mm")],
        "Lightweight thermal aircrete block."
    ),
    base!(
        "BRK-ENGB",
        "Engineering brick class B",
        "Blocks and bricks/Bricks",
        "pc",
        "0.68",
        None,
        ["brick", "engineering"],
        [("class", "B"), ("size", "215 x 102.5 x 65 mm")],
        "Solid red engineering brick for damp courses and manholes."
    ),
    base!(
        "BRK-FRM",
        "Facing brick red multi",
        "Blocks and bricks/Bricks",
        "pc",
        "0.79",
        None,
        ["brick", "facing"],
        [("colour", "red multi")],
        "Wirecut facing brick with a red multi blend."
    ),
    base!(
        "SLAB-600",
        "Paving slab 600 x 600 mm grey",
        "Blocks and bricks/Paving",
        "pc",
        "6.40",
        None,
        ["paving", "slab"],
        [("size", "600 x 600 x 35 mm"), ("colour", "grey")],
        "Pressed concrete paving slab."
    ),
    base!(
        "KERB-HB2",
        "Kerb HB2 915 mm",
        "Blocks and bricks/Paving",
        "pc",
        "7.90",
        None,
        ["kerb", "road"],
        [("profile", "half battered")],
        "Precast concrete road kerb."
    ),
    base!(
        "CHEM-PLAST",
        "Concrete plasticiser",
        "Chemicals/Admixtures",
        "l",
        "3.80",
        Some("1050"),
        ["admixture", "concrete"],
        [("dose", "200 ml per 50 kg")],
        "Improves workability and reduces water in concrete and mortar."
    ),
    base!(
        "CHEM-PVA",
        "PVA bond and primer",
        "Chemicals/Bonding",
        "l",
        "4.20",
        Some("1100"),
        ["pva", "primer", "bonding"],
        [],
        "Multi-purpose PVA adhesive, primer and sealer."
    ),
    base!(
        "CHEM-BIT",
        "Bitumen emulsion",
        "Chemicals/Waterproofing",
        "l",
        "5.10",
        Some("1000"),
        ["bitumen", "waterproofing"],
        [],
        "Cold-applied bitumen waterproofing for foundations."
    ),
    base!(
        "CHEM-HCL30",
        "Hydrochloric acid 30%",
        "Chemicals/Acids",
        "l",
        "2.90",
        Some("1150"),
        ["acid", "cleaning"],
        [("concentration", "30%")],
        "Concentrated hydrochloric acid for masonry cleaning."
    ),
    base!(
        "CHEM-NAOH",
        "Sodium hydroxide pellets",
        "Chemicals/Alkalis",
        "kg",
        "2.40",
        Some("2130"),
        ["caustic", "alkali"],
        [("purity", "99%")],
        "Caustic soda pellets."
    ),
    base!(
        "CHEM-FROST",
        "Frost proofer and accelerator",
        "Chemicals/Admixtures",
        "l",
        "3.50",
        Some("1200"),
        ["admixture", "winter"],
        [],
        "Speeds setting of concrete and mortar in cold weather."
    ),
    base!(
        "CHEM-SLURRY",
        "Waterproofing slurry",
        "Chemicals/Waterproofing",
        "kg",
        "1.90",
        None,
        ["tanking", "waterproofing", "basement"],
        [],
        "Cementitious tanking slurry for basements."
    ),
    base!(
        "INS-PIR50",
        "PIR insulation board 50 mm 2400 x 1200",
        "Insulation/Boards",
        "pc",
        "24.50",
        None,
        ["pir", "insulation"],
        [("thickness", "50 mm"), ("lambda", "0.022 W/mK")],
        "Foil-faced rigid PIR insulation."
    ),
    base!(
        "INS-PIR100",
        "PIR insulation board 100 mm 2400 x 1200",
        "Insulation/Boards",
        "pc",
        "42.00",
        None,
        ["pir", "insulation"],
        [("thickness", "100 mm"), ("lambda", "0.022 W/mK")],
        "Foil-faced rigid PIR insulation."
    ),
    base!(
        "INS-PIR150",
        "PIR insulation board 150 mm 2400 x 1200",
        "Insulation/Boards",
        "pc",
        "61.00",
        None,
        ["pir", "insulation"],
        [("thickness", "150 mm")],
        "Foil-faced rigid PIR insulation for roofs."
    ),
    base!(
        "INS-MW100",
        "Mineral wool roll 100 mm",
        "Insulation/Rolls",
        "m2",
        "3.10",
        None,
        ["mineral wool", "loft"],
        [("thickness", "100 mm")],
        "Glass mineral wool for lofts and stud walls."
    ),
    base!(
        "INS-EPS100",
        "EPS floor insulation 100 mm",
        "Insulation/Boards",
        "m2",
        "8.90",
        None,
        ["eps", "floor"],
        [("thickness", "100 mm"), ("grade", "EPS 100")],
        "Expanded polystyrene boards under floor slabs."
    ),
    base!(
        "INS-XPS50",
        "XPS board 50 mm",
        "Insulation/Boards",
        "m2",
        "12.40",
        None,
        ["xps", "floor", "inverted roof"],
        [("thickness", "50 mm")],
        "Extruded polystyrene for inverted roofs and floors."
    ),
    base!(
        "TOOL-SHV",
        "Round-point shovel",
        "Tools/Hand tools",
        "pc",
        "18.90",
        None,
        ["shovel", "digging"],
        [("handle", "ash")],
        "Forged steel round-point shovel."
    ),
    base!(
        "TOOL-WB85",
        "Builders wheelbarrow 85 l",
        "Tools/Site equipment",
        "pc",
        "64.00",
        None,
        ["wheelbarrow"],
        [("capacity", "85 l")],
        "Galvanised builders wheelbarrow with pneumatic tyre."
    ),
    base!(
        "TOOL-LVL12",
        "Spirit level 1200 mm",
        "Tools/Hand tools",
        "pc",
        "27.00",
        None,
        ["level", "measuring"],
        [("length", "1200 mm")],
        "Box-section aluminium spirit level."
    ),
    base!(
        "TOOL-TRW11",
        "Brick trowel 11 in",
        "Tools/Hand tools",
        "pc",
        "14.50",
        None,
        ["trowel", "bricklaying"],
        [("length", "11 in")],
        "Forged brick trowel with soft grip."
    ),
    base!(
        "TOOL-MIX140",
        "Concrete mixer 140 l",
        "Tools/Site equipment",
        "pc",
        "329.00",
        None,
        ["mixer", "concrete"],
        [("drum", "140 l"), ("power", "650 W")],
        "Electric site concrete mixer."
    ),
    base!(
        "PPE-HAT",
        "Safety helmet",
        "Tools/Safety",
        "pc",
        "6.90",
        None,
        ["ppe", "helmet"],
        [("standard", "EN 397")],
        "Vented safety helmet with ratchet harness."
    ),
    base!(
        "PPE-GLV",
        "Work gloves nitrile",
        "Tools/Safety",
        "pc",
        "2.40",
        None,
        ["ppe", "gloves"],
        [],
        "Nitrile-coated general handling gloves."
    ),
    base!(
        "DRN-110",
        "Drain pipe 110 mm x 3 m",
        "Drainage/Pipes",
        "pc",
        "16.80",
        None,
        ["drainage", "pipe", "pvc"],
        [("diameter", "110 mm"), ("length", "3 m")],
        "Underground drainage pipe, plain ended."
    ),
    base!(
        "DRN-MH600",
        "Manhole cover 600 x 450 mm",
        "Drainage/Covers",
        "pc",
        "45.00",
        None,
        ["manhole", "cover"],
        [("load", "B125")],
        "Galvanised manhole cover and frame."
    ),
    base!(
        "DRN-GULLY",
        "Gully pot 110 mm",
        "Drainage/Fittings",
        "pc",
        "12.60",
        None,
        ["gully", "drainage"],
        [],
        "Trapped yard gully."
    ),
];

/// The JSON body that creates a base product.
pub fn product_json(base: &Base) -> Value {
    let attributes: serde_json::Map<String, Value> = base
        .attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "sku": base.sku,
        "name": base.name,
        "description": base.description,
        "category": base.category,
        "tags": base.tags,
        "attributes": attributes,
        "unit": base.unit,
        "density_kg_m3": base.density,
        "price": base.price,
        "reorder_point": reorder_point(base.unit),
    })
}

fn reorder_point(unit: &str) -> &'static str {
    match unit {
        "t" => "10",
        "kg" => "500",
        "l" => "50",
        "m" | "m2" => "100",
        _ => "20",
    }
}

/// `count` products: the hand-written base first, then products of the
/// generated families ([`super::families`]), spread evenly over them.
pub fn generate(seed: u64, count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<Value> = BASE.iter().take(count).map(product_json).collect();
    let families = super::families::FAMILIES;
    let mut n = 0usize;
    while out.len() < count {
        let family = &families[n % families.len()];
        n += 1;
        out.push(super::families::product(family, n, &mut rng));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::ProductInput;

    #[test]
    fn every_generated_product_is_valid_and_skus_are_unique() {
        let products = generate(7, 2_000);
        let mut skus = std::collections::BTreeSet::new();
        for p in &products {
            let input: ProductInput =
                serde_json::from_value(p.clone()).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert!(skus.insert(input.sku.unwrap()));
        }
        assert_eq!(products.len(), 2_000);
    }

    #[test]
    fn the_same_seed_gives_the_same_catalogue() {
        assert_eq!(generate(42, 500), generate(42, 500));
        assert_ne!(generate(42, 500), generate(43, 500));
    }
}
