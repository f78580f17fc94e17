//! An in-memory store, as the book fakes its repository and unit of work: fast unit
//! tests of the service layer with the real bus, handlers and unit of work.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::adapters::notifications::Mail;
use crate::adapters::outbox::Outbox;
use crate::adapters::read_model::ReadModelWriter;
use crate::adapters::repository::ProductRepository;
use crate::adapters::{Store, StoreError, StoreTransaction};
use crate::domain::commands::Command;
use crate::domain::events::{Allocated, BatchCreated, BatchQuantityChanged, OutOfStock};
use crate::domain::model::{OrderLine, Product};
use crate::domain::staff::Actor;
use crate::domain::values::{BatchRef, Sku};

/// What the fake has committed.
#[derive(Debug, Clone, Default)]
pub struct FakeState {
    pub products: HashMap<Sku, Product>,
    /// Purchased quantity per batch, as the batch listing shows it.
    pub batches_view: HashMap<BatchRef, u32>,
    pub allocations_view: Vec<Allocated>,
    pub out_of_stock: Vec<OrderLine>,
    pub commits: usize,
    /// Makes every read-model write fail, to prove a failing handler stops no other.
    pub read_model_fails: bool,
    /// How many commits from now on fail as if another writer had won the race.
    pub conflicts_ahead: u32,
    /// `(channel, payload)` of every message recorded for publication.
    pub outbox: Vec<(String, String)>,
    /// Every e-mail recorded for sending.
    pub mail: Vec<Mail>,
    /// `(actor, command)` of every command that took effect.
    pub command_log: Vec<(String, Command)>,
}

#[derive(Clone, Default)]
pub struct FakeStore {
    state: Arc<Mutex<FakeState>>,
    /// Read-model writes refused while broken; counted outside any transaction.
    refused_read_model_writes: Arc<AtomicUsize>,
}

impl FakeStore {
    pub fn state(&self) -> FakeState {
        self.state.lock().unwrap().clone()
    }

    pub fn refused_read_model_writes(&self) -> usize {
        self.refused_read_model_writes.load(Ordering::SeqCst)
    }

    pub fn break_read_model(&self) {
        self.state.lock().unwrap().read_model_fails = true;
    }

    pub fn lose_races(&self, commits: u32) {
        self.state.lock().unwrap().conflicts_ahead = commits;
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn begin(&self, actor: &Actor) -> Result<Box<dyn StoreTransaction>, StoreError> {
        Ok(Box::new(FakeTransaction {
            actor: actor.name.clone(),
            committed: Arc::clone(&self.state),
            pending: self.state(),
            refused_read_model_writes: Arc::clone(&self.refused_read_model_writes),
        }))
    }
}

/// Works on a copy of the state and swaps it in on commit, so dropping it rolls back.
struct FakeTransaction {
    actor: String,
    committed: Arc<Mutex<FakeState>>,
    pending: FakeState,
    refused_read_model_writes: Arc<AtomicUsize>,
}

impl FakeTransaction {
    fn read_model_write(&self) -> Result<(), StoreError> {
        if self.pending.read_model_fails {
            self.refused_read_model_writes
                .fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Backend("the read model is broken".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl ProductRepository for FakeTransaction {
    async fn get(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        Ok(self.pending.products.get(sku).cloned())
    }

    async fn sku_of_batch(&mut self, reference: &BatchRef) -> Result<Option<Sku>, StoreError> {
        Ok(self
            .pending
            .products
            .values()
            .find(|p| p.batch(reference).is_some())
            .map(|p| p.sku().clone()))
    }

    async fn save(&mut self, _: Option<&Product>, product: &Product) -> Result<(), StoreError> {
        self.pending
            .products
            .insert(product.sku().clone(), product.clone());
        Ok(())
    }
}

#[async_trait]
impl ReadModelWriter for FakeTransaction {
    async fn add_batch(&mut self, created: &BatchCreated) -> Result<(), StoreError> {
        self.read_model_write()?;
        self.pending
            .batches_view
            .insert(created.reference.clone(), created.qty.get());
        Ok(())
    }

    async fn set_batch_quantity(
        &mut self,
        changed: &BatchQuantityChanged,
    ) -> Result<(), StoreError> {
        self.read_model_write()?;
        self.pending
            .batches_view
            .insert(changed.reference.clone(), changed.qty.get());
        Ok(())
    }

    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError> {
        self.read_model_write()?;
        let view = &mut self.pending.allocations_view;
        if !view.iter().any(|a| a.line == allocated.line) {
            view.push(allocated.clone());
        }
        Ok(())
    }

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        self.read_model_write()?;
        self.pending.allocations_view.retain(|a| &a.line != line);
        Ok(())
    }

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError> {
        self.read_model_write()?;
        self.pending.out_of_stock.push(event.line.clone());
        Ok(())
    }
}

#[async_trait]
impl Outbox for FakeTransaction {
    async fn record_message(&mut self, channel: &str, payload: &str) -> Result<(), StoreError> {
        self.pending
            .outbox
            .push((channel.to_owned(), payload.to_owned()));
        Ok(())
    }

    async fn record_mail(&mut self, mail: &Mail) -> Result<(), StoreError> {
        self.pending.mail.push(mail.clone());
        Ok(())
    }
}

#[async_trait]
impl StoreTransaction for FakeTransaction {
    async fn log_command(&mut self, command: &Command) -> Result<(), StoreError> {
        self.pending
            .command_log
            .push((self.actor.clone(), command.clone()));
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let mut committed = self.committed.lock().unwrap();
        if committed.conflicts_ahead > 0 {
            committed.conflicts_ahead -= 1;
            return Err(StoreError::Conflict("another writer won".into()));
        }
        self.pending.commits += 1;
        self.pending.conflicts_ahead = 0;
        *committed = self.pending;
        Ok(())
    }
}
