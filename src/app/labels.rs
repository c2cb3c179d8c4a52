//! Shelf and bin labels for chosen products or for what a location holds:
//! what each label shows, with its barcode and the QR code to the product's
//! storefront page drawn by Quarry.

use serde::Serialize;
use utoipa::ToSchema;

use super::{App, AppError};
use crate::domain::catalogue::{Brand, Product, ProductName};
use crate::domain::labels::{self, LabelBarcode, MAX_LABELS};
use crate::domain::locations::LocationCode;
use crate::domain::units::{Pack, UnitName};
use crate::domain::values::{Money, Sku};

/// Which products get a label.
#[derive(Debug, Clone)]
pub enum LabelChoice {
    /// These products, in this order (a SKU named twice gets one label).
    Products(Vec<String>),
    /// Every active product with stock on hand at the location, by SKU.
    Location(String),
}

/// The labels, one per product, and what every label says alike.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelSheet {
    /// ISO 4217 code of the prices.
    pub currency: String,
    /// Whether the prices include tax (printed beside them).
    pub prices_include_tax: bool,
    pub labels: Vec<Label>,
}

/// One product's label.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Label {
    pub sku: Sku,
    pub name: ProductName,
    pub brand: Option<Brand>,
    /// The list price per `per`.
    pub price: Money,
    /// The unit the price is per (a unit or a pack).
    #[schema(value_type = String)]
    pub per: UnitName,
    /// When the price is per a pack: what the pack holds.
    pub pack: Option<Pack>,
    /// The product's storefront page, which the QR code opens.
    pub url: String,
    pub barcode: LabelBarcode,
    /// The QR code to `url`, an SVG image.
    pub qr_svg: String,
}

fn label(product: &Product, base: &str) -> Label {
    let per = product.pricing_unit();
    let url = format!("{}/p/{}", base.trim_end_matches('/'), product.sku);
    Label {
        sku: product.sku.clone(),
        name: product.name.clone(),
        brand: product.brand.clone(),
        price: product.price,
        pack: product.packs.iter().find(|p| p.name == per).cloned(),
        per,
        barcode: labels::barcode(product),
        qr_svg: labels::qr(&url),
        url,
    }
}

impl App {
    /// The labels for `choice`; `base` is the storefront's address the QR
    /// codes point at.
    pub async fn labels(&self, choice: LabelChoice, base: String) -> Result<LabelSheet, AppError> {
        let products = match choice {
            LabelChoice::Products(skus) => self.labelled_products(skus).await?,
            LabelChoice::Location(code) => self.stocked_products(&code).await?,
        };
        let shop = &self.config().shop;
        Ok(LabelSheet {
            currency: shop.currency.clone(),
            prices_include_tax: shop.prices_include_tax,
            labels: products.iter().map(|p| label(p, &base)).collect(),
        })
    }

    async fn labelled_products(&self, skus: Vec<String>) -> Result<Vec<Product>, AppError> {
        let mut wanted: Vec<Sku> = Vec::with_capacity(skus.len());
        for raw in &skus {
            let sku = Sku::parse(raw.trim()).map_err(AppError::field("skus"))?;
            if !wanted.contains(&sku) {
                wanted.push(sku);
            }
        }
        if wanted.is_empty() {
            return Err(AppError::invalid("skus", "name at least one product"));
        }
        if wanted.len() > MAX_LABELS {
            return Err(AppError::invalid(
                "skus",
                format!("at most {MAX_LABELS} products at once"),
            ));
        }
        self.read(move |tx| {
            let found = tx.products_many(&wanted)?;
            wanted
                .iter()
                .zip(found)
                .map(|(sku, product)| match product {
                    Some(p) if p.active => Ok(p),
                    Some(_) => Err(AppError::invalid(
                        "skus",
                        format!("{sku} is archived: the shop does not offer it"),
                    )),
                    None => Err(AppError::invalid(
                        "skus",
                        format!("no product has the SKU {sku}"),
                    )),
                })
                .collect()
        })
        .await
    }

    /// Active products with stock on hand at `code`. Levels are keyed by
    /// product first, so this reads them all once (as the stock value does);
    /// the products are then read in one batch.
    async fn stocked_products(&self, code: &str) -> Result<Vec<Product>, AppError> {
        let code = LocationCode::parse(code.trim()).map_err(AppError::field("location"))?;
        self.read(move |tx| {
            if tx.location(&code)?.is_none() {
                return Err(AppError::NotFound {
                    what: "location",
                    key: code.to_string(),
                });
            }
            let mut skus = Vec::new();
            tx.for_each_level(|(sku, location, level)| {
                if location == code && level.on_hand > rust_decimal::Decimal::ZERO {
                    skus.push(sku);
                }
                Ok::<_, AppError>(())
            })?;
            let products: Vec<Product> = tx
                .products_many(&skus)?
                .into_iter()
                .flatten()
                .filter(|p| p.active)
                .collect();
            if products.len() > MAX_LABELS {
                return Err(AppError::invalid(
                    "location",
                    format!(
                        "{code} holds {} products; choose at most {MAX_LABELS} by SKU",
                        products.len()
                    ),
                ));
            }
            Ok(products)
        })
        .await
    }
}
