//! A second catalogue of another kind: a hardware and tool merchant's, listed
//! the way such merchants list them — long, brand-led names with model
//! numbers, voltages, kits, sizes and colours; many near-duplicates that
//! differ in one of them; descriptions full of "for", "with" and "and". It
//! feeds the second relevance set and the real-text search benchmark, where
//! the yard's short, regular names would flatter the engine.
//!
//! The brands are made up; the product kinds, sizes and wording are those of
//! real listings.

use serde_json::{Value, json};

use super::Rng;
use super::relevance::RelevanceQuery;

/// The brands, with the letters their model numbers start with.
const BRANDS: &[(&str, &str)] = &[
    ("Acme Pro", "AP"),
    ("Brennan", "BR"),
    ("Corvid", "CV"),
    ("Dunmore", "DM"),
    ("Eastfield", "EF"),
    ("Falk", "FK"),
    ("Granite Works", "GW"),
    ("Hartwell", "HW"),
    ("Ironside", "IS"),
    ("Kestrel", "KS"),
    ("Larch & Co", "LC"),
    ("Marlow", "ML"),
    ("Northgate", "NG"),
    ("Oakridge", "OR"),
    ("Pellow", "PW"),
    ("Quayle", "QY"),
    ("Redpath", "RP"),
    ("Stoneleigh", "SL"),
    ("Tamar", "TM"),
    ("Vantage", "VT"),
];

/// A kind of product: its category, the words of its name, how variants of
/// it differ, and what its description talks about.
struct Kind {
    category: &'static str,
    /// The product type as names write it ("combi drill").
    name: &'static str,
    /// Variants: each a list of alternatives, one of which goes in the name.
    variants: &'static [&'static [&'static str]],
    /// Whether names carry a model number.
    model: bool,
    /// Price range in whole units.
    price: (u32, u32),
    uses: &'static [&'static str],
}

const KITS: &[&str] = &[
    "body only",
    "with 2 x 2.0Ah batteries and charger",
    "with 2 batteries, charger and case",
    "with 1 x 4.0Ah battery, fast charger and bag",
];
const VOLTS: &[&str] = &["18V", "12V", "20V Max", "36V"];
const COLOURS: &[&str] = &[
    "black",
    "white",
    "grey",
    "anthracite",
    "blue",
    "red",
    "green",
    "yellow",
    "silver",
    "oak",
    "walnut",
    "brilliant white",
    "magnolia",
    "slate grey",
    "duck egg blue",
];

const KINDS: &[Kind] = &[
    Kind {
        category: "Power tools/Drills",
        name: "cordless combi drill",
        variants: &[VOLTS, KITS],
        model: true,
        price: (49, 329),
        uses: &["drilling into masonry, wood and metal", "driving screws"],
    },
    Kind {
        category: "Power tools/Drills",
        name: "cordless hammer drill driver",
        variants: &[VOLTS, KITS],
        model: true,
        price: (59, 299),
        uses: &["drilling into brick and block", "light fixing work"],
    },
    Kind {
        category: "Power tools/Drivers",
        name: "cordless impact driver",
        variants: &[VOLTS, KITS],
        model: true,
        price: (45, 249),
        uses: &["driving long screws and bolts", "decking and framing"],
    },
    Kind {
        category: "Power tools/Grinders",
        name: "angle grinder",
        variants: &[
            &["115 mm", "125 mm", "230 mm"],
            &["750W", "900W", "2000W", "18V body only"],
        ],
        model: true,
        price: (29, 189),
        uses: &["cutting and grinding metal, stone and tile"],
    },
    Kind {
        category: "Power tools/Saws",
        name: "circular saw",
        variants: &[
            &["165 mm", "185 mm", "190 mm"],
            &["1200W", "1400W", "18V body only"],
        ],
        model: true,
        price: (49, 259),
        uses: &["straight cuts in timber and sheet material"],
    },
    Kind {
        category: "Power tools/Saws",
        name: "jigsaw",
        variants: &[
            &["650W", "800W", "18V body only"],
            &["with 5 blades", "with case"],
        ],
        model: true,
        price: (35, 179),
        uses: &["curved cuts in wood, laminate and plastic"],
    },
    Kind {
        category: "Power tools/Sanders",
        name: "random orbit sander",
        variants: &[&["125 mm", "150 mm"], &["300W", "450W", "18V body only"]],
        model: true,
        price: (39, 199),
        uses: &["smooth finishing of wood and filler"],
    },
    Kind {
        category: "Hand tools/Hammers",
        name: "claw hammer",
        variants: &[
            &["16 oz", "20 oz", "22 oz"],
            &["fibreglass handle", "steel shaft", "hickory handle"],
        ],
        model: false,
        price: (9, 39),
        uses: &["general carpentry and nail removal"],
    },
    Kind {
        category: "Hand tools/Sockets and spanners",
        name: "socket set",
        variants: &[
            &["1/4 inch drive", "3/8 inch drive", "1/2 inch drive"],
            &["24 piece", "40 piece", "94 piece"],
        ],
        model: true,
        price: (19, 149),
        uses: &["automotive and workshop use"],
    },
    Kind {
        category: "Hand tools/Sockets and spanners",
        name: "combination spanner set",
        variants: &[
            &["8 piece", "12 piece", "22 piece"],
            &["metric 8-19 mm", "metric 6-32 mm", "imperial"],
        ],
        model: true,
        price: (15, 99),
        uses: &["tightening nuts and bolts"],
    },
    Kind {
        category: "Hand tools/Screwdrivers",
        name: "screwdriver set",
        variants: &[
            &["6 piece", "10 piece", "32 piece"],
            &["slotted and pozi", "insulated VDE", "precision"],
        ],
        model: true,
        price: (7, 49),
        uses: &["electrical and general work"],
    },
    Kind {
        category: "Hand tools/Measuring",
        name: "tape measure",
        variants: &[
            &["5 m / 16 ft", "8 m / 26 ft", "10 m / 33 ft"],
            &["25 mm blade", "magnetic hook", "auto lock"],
        ],
        model: false,
        price: (5, 29),
        uses: &["measuring on site"],
    },
    Kind {
        category: "Hand tools/Measuring",
        name: "spirit level",
        variants: &[
            &["600 mm", "1200 mm", "1800 mm", "2000 mm"],
            &["3 vials", "magnetic", "box section"],
        ],
        model: false,
        price: (8, 69),
        uses: &["setting out and levelling"],
    },
    Kind {
        category: "Fixings/Screws",
        name: "wood screws",
        variants: &[
            &["4.0 x 40 mm", "4.0 x 50 mm", "5.0 x 70 mm", "6.0 x 100 mm"],
            &[
                "pozi countersunk zinc, box of 200",
                "torx yellow passivated, box of 100",
                "pozi countersunk zinc, box of 1000",
            ],
        ],
        model: false,
        price: (4, 39),
        uses: &["joinery, decking and general fixing"],
    },
    Kind {
        category: "Fixings/Bolts",
        name: "coach bolts",
        variants: &[
            &["M8 x 60 mm", "M10 x 100 mm", "M12 x 150 mm"],
            &[
                "zinc plated, pack of 10",
                "hot dip galvanised, pack of 4",
                "with nuts and washers, pack of 20",
            ],
        ],
        model: false,
        price: (3, 29),
        uses: &["timber to timber connections"],
    },
    Kind {
        category: "Fixings/Wall plugs",
        name: "wall plugs",
        variants: &[
            &[
                "brown 7 mm x 30 mm",
                "red 6 mm x 25 mm",
                "yellow 5 mm x 25 mm",
            ],
            &["pack of 100", "pack of 500", "with screws, pack of 50"],
        ],
        model: false,
        price: (2, 19),
        uses: &["fixing into brick, block and concrete"],
    },
    Kind {
        category: "Painting/Paint",
        name: "matt emulsion paint",
        variants: &[COLOURS, &["2.5 l", "5 l", "10 l"]],
        model: false,
        price: (12, 59),
        uses: &["walls and ceilings"],
    },
    Kind {
        category: "Painting/Wood care",
        name: "exterior wood stain",
        variants: &[COLOURS, &["750 ml", "2.5 l", "5 l"]],
        model: false,
        price: (9, 49),
        uses: &["sheds, fences and garden furniture"],
    },
    Kind {
        category: "Storage/Tool storage",
        name: "tool box",
        variants: &[
            &["16 inch", "19 inch", "22 inch", "26 inch"],
            &[
                "with organiser",
                "with metal latches",
                "with removable tray",
            ],
        ],
        model: true,
        price: (9, 79),
        uses: &["keeping tools and fixings together"],
    },
    Kind {
        category: "Storage/Straps",
        name: "ratchet strap set",
        variants: &[
            &["2 pack", "4 pack", "6 pack"],
            &[
                "5 m x 25 mm 800 kg",
                "6 m x 50 mm 2000 kg",
                "10 m x 50 mm 5000 kg heavy duty",
            ],
        ],
        model: false,
        price: (9, 59),
        uses: &["securing loads on trailers and roof racks"],
    },
    Kind {
        category: "Electrical/Extension leads",
        name: "extension lead",
        variants: &[
            &["2 gang", "4 gang", "6 gang"],
            &["2 m white", "5 m black", "surge protected 2 m with USB"],
        ],
        model: true,
        price: (7, 39),
        uses: &["powering tools and appliances"],
    },
    Kind {
        category: "Electrical/Lighting",
        name: "LED bulb",
        variants: &[
            &["E27 9W", "B22 9W", "GU10 5W", "E14 4.9W"],
            &[
                "warm white, pack of 3",
                "cool white, pack of 5",
                "dimmable warm white",
            ],
        ],
        model: false,
        price: (3, 25),
        uses: &["everyday lighting"],
    },
    Kind {
        category: "Garden/Watering",
        name: "garden hose",
        variants: &[
            &["15 m", "30 m", "50 m"],
            &["with reel", "with spray gun and fittings", "anti kink"],
        ],
        model: false,
        price: (12, 89),
        uses: &["watering the garden and washing the car"],
    },
    Kind {
        category: "Workwear/Gloves",
        name: "work gloves",
        variants: &[
            &["size 8 M", "size 9 L", "size 10 XL"],
            &["nitrile coated", "cut resistant level C", "thermal lined"],
        ],
        model: false,
        price: (3, 19),
        uses: &["building sites, gardening and DIY"],
    },
    Kind {
        category: "Workwear/Footwear",
        name: "safety boots",
        variants: &[
            &["S1P", "S3", "S3 waterproof"],
            &["size 7", "size 8", "size 9", "size 10", "size 11"],
            &["black", "brown"],
        ],
        model: true,
        price: (29, 129),
        uses: &["site work"],
    },
];

const PHRASES: &[&str] = &[
    "Ideal for DIY and trade use",
    "Built to last with a tough, durable finish",
    "Easy to use and comfortable to hold for long periods",
    "Backed by a 3-year warranty when registered online",
    "Suitable for indoor and outdoor use",
    "Part of the range of tools and accessories for the professional and the home user",
    "Compatible with the whole 18V battery platform of the same brand",
    "Supplied in retail packaging with instructions",
];

/// The model number of the `n`th product with model numbers of a brand:
/// unique in the catalogue, written the way makers write them (`AP2040`,
/// `AP2041K`).
fn model(prefix: &str, n: usize, rng: &mut Rng) -> String {
    let suffix = ["", "", "K", "Z", "B", "X"][rng.below(6)];
    format!("{prefix}{}{suffix}", 1000 + n * 7 % 9000)
}

/// `count` hardware products for `seed`, with unique SKUs and names.
pub fn hardware(seed: u64, count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed ^ 0x4A2D_7A2E);
    let mut out = Vec::with_capacity(count);
    let mut names = std::collections::HashSet::new();
    let mut models = 0usize;
    while out.len() < count {
        let kind = rng.pick(KINDS);
        let (brand, prefix) = *rng.pick(BRANDS);
        let chosen: Vec<&str> = kind.variants.iter().map(|v| *rng.pick(v)).collect();
        let model_number = kind.model.then(|| {
            models += 1;
            model(prefix, models, &mut rng)
        });
        // Power tools lead with the voltage or size, hand tools with the
        // type, as real listings do.
        let mut parts: Vec<&str> = vec![brand];
        if kind.category.starts_with("Power") {
            parts.push(chosen[0]);
            parts.push(kind.name);
            parts.extend(model_number.as_deref());
            parts.extend(&chosen[1..]);
        } else {
            parts.push(kind.name);
            parts.extend(model_number.as_deref());
            parts.extend(&chosen);
        }
        let name = parts.join(" ");
        if !names.insert(name.to_lowercase()) {
            continue;
        }
        let (low, high) = kind.price;
        let price = low + u32::try_from(rng.below((high - low) as usize + 1)).unwrap_or(0);
        let pence = [0, 49, 95, 99][rng.below(4)];
        let mut description = format!(
            "The {brand} {} is made for {}. {}.",
            kind.name,
            rng.pick(kind.uses),
            chosen.join(", ")
        );
        for _ in 0..2 + rng.below(3) {
            description.push(' ');
            let phrase: &&str = rng.pick(PHRASES);
            description.push_str(phrase);
            description.push('.');
        }
        let mut attributes = serde_json::Map::new();
        if let Some(m) = &model_number {
            attributes.insert("model".into(), json!(m));
        }
        out.push(json!({
            "sku": format!("HW-{:06}", out.len() + 1),
            "name": name,
            "brand": brand,
            "description": description,
            "category": kind.category,
            "tags": [kind.name.split(' ').next_back().unwrap_or(kind.name)],
            "attributes": attributes,
            "unit": "pc",
            "price": format!("{price}.{pence:02}"),
            "reorder_point": "5",
        }));
    }
    out
}

/// One edit in the longest word of at least six letters (dropped, swapped or
/// changed letter), as people mistype.
fn misspell(text: &str, rng: &mut Rng) -> Option<String> {
    let word = text
        .split(' ')
        .filter(|w| w.len() >= 6 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .max_by_key(|w| w.len())?;
    Some(text.replacen(word, &super::queries::typo(word, rng), 1))
}

fn text(p: &Value, field: &str) -> String {
    p[field].as_str().unwrap_or_default().to_owned()
}

fn sku(p: &Value) -> String {
    text(p, "sku")
}

/// The product type its name says.
fn kind_of(p: &Value) -> Option<&'static str> {
    let name = text(p, "name").to_lowercase();
    KINDS
        .iter()
        .find(|k| name.contains(k.name.to_lowercase().as_str()))
        .map(|k| k.name)
}

/// The name without its model number, as people type a name.
fn plain(p: &Value) -> String {
    let name = text(p, "name");
    match p["attributes"]["model"].as_str() {
        Some(m) => name.replace(&format!(" {m}"), ""),
        None => name,
    }
}

/// The products that differ from `p` only in their model number: equally
/// right answers to a query without one.
fn alike(products: &[Value], p: &Value) -> Vec<String> {
    let name = plain(p).to_lowercase();
    products
        .iter()
        .filter(|q| plain(q).to_lowercase() == name)
        .map(sku)
        .collect()
}

/// A name typed up to a word cut short, at least three words in, and the
/// products whose names start that way.
fn half_typed(products: &[Value], p: &Value, rng: &mut Rng) -> Option<(String, Vec<String>)> {
    let name = plain(p);
    let words: Vec<&str> = name.split(' ').collect();
    let take = (3 + rng.below(words.len().saturating_sub(2).max(1))).min(words.len());
    let last = words[take - 1];
    if last.chars().count() < 5 || !last.chars().all(char::is_alphabetic) {
        return None;
    }
    let cut: String = last.chars().take(3 + rng.below(2)).collect();
    let query = format!("{} {cut}", words[..take - 1].join(" "));
    let typed: Vec<String> = query.to_lowercase().split(' ').map(str::to_owned).collect();
    let expected = products
        .iter()
        .filter(|q| {
            let words: Vec<String> = plain(q)
                .to_lowercase()
                .split(' ')
                .map(str::to_owned)
                .collect();
            typed
                .iter()
                .enumerate()
                .all(|(i, w)| words.get(i).is_some_and(|x| x.starts_with(w.as_str())))
        })
        .map(sku)
        .collect();
    Some((query, expected))
}

/// One query of a kind, with its expected products, or `None` when the
/// product picked does not lend itself to that kind.
fn query_of(
    kind: &str,
    products: &[Value],
    p: &Value,
    rng: &mut Rng,
) -> Option<(String, Vec<String>)> {
    match kind {
        "exact" => Some((text(p, "name"), vec![sku(p)])),
        // From an invoice: lower case, punctuation gone, units written
        // against their numbers or apart from them.
        "pasted" => Some((
            text(p, "name")
                .to_lowercase()
                .replace([',', '/'], " ")
                .replace("18v", "18 v")
                .replace(" mm", "mm"),
            vec![sku(p)],
        )),
        "typo" => Some((misspell(&plain(p), rng)?, alike(products, p))),
        "half-typed" => half_typed(products, p, rng),
        "brand+type" => {
            let brand = text(p, "brand");
            let kind = kind_of(p)?;
            let expected = products
                .iter()
                .filter(|q| text(q, "brand") == brand && kind_of(q) == Some(kind))
                .map(sku)
                .collect();
            Some((format!("{} {kind}", brand.to_lowercase()), expected))
        }
        "model" => {
            let m = p["attributes"]["model"].as_str()?.to_lowercase();
            // Half of them typed with a space between letters and digits.
            let typed = if rng.below(2) == 0 {
                let split = m.find(|c: char| c.is_ascii_digit())?;
                format!("{} {}", &m[..split], &m[split..])
            } else {
                m
            };
            Some((typed, vec![sku(p)]))
        }
        _ => {
            let extra = *rng.pick(&["organiser", "uk", "genuine", "heavy duty", "new", "trade"]);
            Some((format!("{} {extra}", text(p, "name")), vec![sku(p)]))
        }
    }
}

/// The kinds of query of the second relevance set.
pub const KINDS_OF_QUERY: &[&str] = &[
    "exact",
    "pasted",
    "typo",
    "half-typed",
    "brand+type",
    "model",
    "one-too-many",
];

/// `per_kind` queries of each kind over `products` (as made by
/// [`hardware`]), deterministic for `seed`.
pub fn relevance_set(seed: u64, products: &[Value], per_kind: usize) -> Vec<RelevanceQuery> {
    let mut rng = Rng::new(seed ^ 0x7E1E_7A4C);
    let mut out = Vec::new();
    for &kind in KINDS_OF_QUERY {
        let mut made = 0;
        for _ in 0..per_kind * 20 {
            if made == per_kind {
                break;
            }
            let p = rng.pick(products);
            if let Some((text, expected)) = query_of(kind, products, p, &mut rng) {
                out.push(RelevanceQuery {
                    kind,
                    text,
                    expected,
                });
                made += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::ProductInput;

    #[test]
    fn every_hardware_product_is_valid_with_unique_skus_and_names() {
        let products = hardware(3, 3_000);
        let mut names = std::collections::BTreeSet::new();
        for p in &products {
            let input: ProductInput =
                serde_json::from_value(p.clone()).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert!(names.insert(input.name.as_str().to_lowercase()));
            assert!(input.brand.is_some());
        }
        assert_eq!(products.len(), 3_000);
        assert_eq!(hardware(3, 100), hardware(3, 100));
    }

    #[test]
    fn the_relevance_set_has_every_kind_and_knows_its_answers() {
        let products = hardware(1, 1_000);
        let set = relevance_set(1, &products, 10);
        for kind in KINDS_OF_QUERY {
            assert_eq!(set.iter().filter(|q| q.kind == *kind).count(), 10, "{kind}");
        }
        assert!(set.iter().all(|q| !q.expected.is_empty()));
    }
}
